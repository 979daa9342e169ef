/* The Review page: label texts the bot failed (an intent, out of scope, or skip).
   Customer texts go into the page as text nodes only. */
(function () {
  "use strict";
  var D = window.Desk;
  var el = D.el;
  var $ = D.$;
  var REASONS = {
    fallback: "not understood",
    out_of_scope: "out of scope",
    handoff: "handed off",
    low_confidence: "unsure"
  };
  var data = { items: [], intents: [] };

  function describe(label) {
    if (label === "out_of_scope") return "out of scope";
    return label;
  }

  function picker(item) {
    var pick = el("select", { className: "review-pick", attrs: { "aria-label": "What this text meant" } });
    pick.appendChild(el("option", { text: "Choose…", attrs: { value: "" } }));
    data.intents.forEach(function (name) {
      var option = el("option", { text: describe(name), attrs: { value: name } });
      if (name === (item.label || item.guess)) option.selected = true;
      pick.appendChild(option);
    });
    return pick;
  }

  function save(item, label, row, said) {
    said.textContent = "Saving…";
    D.api("POST", "/api/review/label", { key: item.key, text: item.text, label: label })
      .then(function (r) {
        if (!r.ok) { said.textContent = r.data.error || "Could not save."; return; }
        item.label = label;
        item.decided = true;
        said.textContent = label === null ? "Skipped." : "Labelled " + describe(label) + ".";
        row.classList.add("decided");
      })
      .catch(function () { said.textContent = "Could not save."; });
  }

  function itemRow(item) {
    var row = el("li", { className: "review-item" + (item.decided ? " decided" : ""), dataset: { key: item.key } });
    var reasons = item.reasons.map(function (r) { return REASONS[r] || r; }).join(", ");
    var guess = item.guess ? " · bot guessed " + describe(item.guess) + " (" + Math.round(item.confidence * 100) + "%)" : "";
    row.appendChild(el("div", { className: "review-text", text: item.text }));
    row.appendChild(el("div", { className: "muted small", text: item.count + "× · " + reasons + guess }));
    var pick = picker(item);
    var said = el("span", { className: "muted small review-status", attrs: { role: "status" } });
    if (item.decided) said.textContent = item.label === null ? "Skipped." : "Labelled " + describe(item.label) + ".";
    var ok = el("button", { className: "small", text: "Save", attrs: { type: "button" } });
    var oos = el("button", { className: "small ghost", text: "Out of scope", attrs: { type: "button" } });
    var skip = el("button", { className: "small ghost", text: "Skip", attrs: { type: "button" } });
    ok.addEventListener("click", function () {
      if (!pick.value) { said.textContent = "Choose an intent first."; return; }
      save(item, pick.value, row, said);
    });
    oos.addEventListener("click", function () { save(item, "out_of_scope", row, said); });
    skip.addEventListener("click", function () { save(item, null, row, said); });
    row.appendChild(el("div", { className: "review-actions" }, pick, ok, oos, skip, said));
    return row;
  }

  function render() {
    var list = $("review-items");
    var all = $("show-decided").checked;
    D.clear(list);
    var shown = data.items.filter(function (item) { return all || !item.decided; });
    shown.forEach(function (item) { list.appendChild(itemRow(item)); });
    $("review-empty").hidden = shown.length > 0;
    list.setAttribute("data-loaded", "1");
  }

  function refresh() {
    return D.api("GET", "/api/review").then(function (r) {
      if (r.ok) { data = r.data; render(); }
    }).catch(function () {});
  }

  function init() {
    D.loadMe().then(function (me) {
      D.initHeader(me, function () {});
      $("show-decided").addEventListener("change", render);
      refresh();
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
