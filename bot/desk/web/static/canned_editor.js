/* The supervisor's canned-reply editor: add, edit and delete the texts agents insert
 * (for every team or one). Texts are shown as text, never as HTML. */
(function () {
  "use strict";
  var D = window.Desk;
  var el = D.el;
  var $ = D.$;

  var S = { items: [], teams: [], editing: null };

  function status(text, kind) {
    var box = $("canned-status");
    box.textContent = text;
    box.className = "small " + (kind === "error" ? "send-status error" : "muted");
  }

  function counter() {
    var info = window.SmsSegments.smsInfo($("canned-text").value);
    $("canned-counter").textContent = info.segments + " SMS · " + info.encoding + " · " + info.length + " characters";
  }

  function renderTeams() {
    var select = $("canned-team");
    var wanted = select.value;
    while (select.options.length > 1) select.remove(1);
    S.teams.forEach(function (team) {
      select.appendChild(el("option", { text: team, attrs: { value: team } }));
    });
    select.value = wanted;
  }

  function deleteButton(item) {
    var armed = false;
    var button = el("button", { className: "ghost", text: "Delete", attrs: { type: "button", "data-action": "delete" } });
    button.addEventListener("click", function () {
      if (!armed) { armed = true; button.textContent = "Really delete?"; return; }
      button.disabled = true;
      D.api("POST", "/api/supervisor/canned/" + item.id + "/delete").then(function (r) {
        status(r.ok ? "Deleted “" + item.title + "”." : (r.data.error || "Could not delete."), r.ok ? "" : "error");
        if (S.editing === item.id) reset();
        load();
      }).catch(function () { button.disabled = false; });
    });
    return button;
  }

  function render() {
    var list = $("canned-list");
    D.clear(list);
    S.items.forEach(function (item) {
      list.appendChild(el("li", { className: "canned-item", dataset: { id: String(item.id), title: item.title } },
        el("div", { className: "card-top" },
          el("strong", { text: item.title }),
          el("span", { className: "tag team", text: item.team || "all teams" })),
        el("div", { className: "canned-text", text: item.text }),
        el("div", { className: "row" },
          el("button", { text: "Edit", attrs: { type: "button", "data-action": "edit" }, on: { click: function () { edit(item); } } }),
          deleteButton(item))));
    });
    if (!S.items.length) list.appendChild(el("li", { className: "muted", text: "No canned replies. Add one above." }));
  }

  function load() {
    return D.api("GET", "/api/supervisor/canned").then(function (r) {
      if (!r.ok) return;
      S.items = r.data.items;
      S.teams = r.data.teams;
      renderTeams();
      render();
    }).catch(function () {});
  }

  function edit(item) {
    S.editing = item.id;
    $("canned-title").value = item.title;
    $("canned-team").value = item.team || "";
    $("canned-text").value = item.text;
    $("canned-save").textContent = "Save changes";
    $("canned-cancel").hidden = false;
    status("Editing “" + item.title + "”.");
    counter();
    $("canned-title").focus();
  }

  function reset() {
    S.editing = null;
    $("canned-form").reset();
    $("canned-save").textContent = "Add reply";
    $("canned-cancel").hidden = true;
    counter();
  }

  function save(event) {
    event.preventDefault();
    var body = {
      title: $("canned-title").value,
      text: $("canned-text").value,
      team: $("canned-team").value || null
    };
    var editing = S.editing;
    var request = editing === null
      ? D.api("POST", "/api/supervisor/canned", body)
      : D.api("PUT", "/api/supervisor/canned/" + editing, body);
    $("canned-save").disabled = true;
    request.then(function (r) {
      $("canned-save").disabled = false;
      if (!r.ok) { status(r.data.error || "Could not save.", "error"); return; }
      status((editing === null ? "Added “" : "Saved “") + r.data.item.title + "”.");
      reset();
      load();
    }).catch(function () { $("canned-save").disabled = false; });
  }

  function init() {
    D.loadMe().then(function () {
      $("canned-form").addEventListener("submit", save);
      $("canned-cancel").addEventListener("click", function () { reset(); status(""); });
      $("canned-text").addEventListener("input", counter);
      counter();
      load();
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
