/* The Requests page: room requests by status and stay dates; confirm, decline (the customer
 * is texted the outcome with the note) or edit one; each request's history. Text only. */
(function () {
  "use strict";
  var D = window.Desk;
  var el = D.el;
  var $ = D.$;

  var S = { openId: null, detail: null, items: [] };
  var LABELS = { requested: "requested", confirmed: "confirmed", declined: "declined", cancelled: "cancelled" };
  var CAN = { confirm: ["requested", "declined"], decline: ["requested", "confirmed"] };
  var EDITABLE = ["requested", "confirmed", "declined"];
  var NOTE_MAX = 160;
  var TEXT_STATES = {
    scheduled: "scheduled (quiet hours)", queued: "queued", sent: "sent", delivered: "delivered",
    failed: "failed", suppressed: "not sent"
  };
  var REASONS = {
    opted_out: "the customer opted out", opted_out_while_scheduled: "opted out before it was due",
    opted_out_before_send: "opted out before it was sent"
  };

  function flash(text, kind) {
    var box = $("flash");
    box.textContent = text;
    box.className = "flash " + (kind || "ok");
    box.hidden = false;
    clearTimeout(flash.timer);
    flash.timer = setTimeout(function () { box.hidden = true; }, 6000);
  }

  function guests(n) { return n + (n === 1 ? " guest" : " guests"); }

  function stay(item) {
    return D.day(item.check_in) + " → " + D.day(item.check_out) + " · " + guests(item.guests) +
      " · " + (item.room_type || "any room");
  }

  function pill(status) {
    return el("span", { className: "pill req-" + status, text: LABELS[status] || status });
  }

  function query() {
    var params = [];
    var status = $("filter-status").value;
    if (status) params.push("status=" + encodeURIComponent(status));
    if ($("filter-from").value) params.push("from=" + encodeURIComponent($("filter-from").value));
    if ($("filter-to").value) params.push("to=" + encodeURIComponent($("filter-to").value));
    return params.length ? "?" + params.join("&") : "";
  }

  /* -------------------------------------------------------------- the list */

  function card(item) {
    var open = item.id === S.openId;
    var toggle = el("button", {
      className: "small details-toggle", text: open ? "Close" : "Details",
      attrs: { type: "button", "aria-expanded": open ? "true" : "false" },
      on: { click: function () { toggleDetail(item.id); } }
    });
    var li = el("li", { className: "request-card", dataset: { id: String(item.id), ref: item.ref, status: item.status } },
      el("div", { className: "request-top" },
        el("strong", { className: "request-ref", text: item.ref }),
        pill(item.status),
        el("span", { className: "request-who", text: item.customer_name || item.phone }),
        toggle),
      el("div", { className: "muted request-stay", text: stay(item) }),
      el("div", { className: "muted small" }, item.customer_name ? item.phone : null,
        item.opted_out ? el("span", { className: "badge danger small-badge", text: "Opted out of texts" }) : null),
      item.notes ? el("div", { className: "request-notes", text: item.notes }) : null);
    if (open && S.detail) li.appendChild(S.detail);
    return li;
  }

  function render(items) {
    S.items = items;
    var list = $("request-list");
    D.clear(list);
    items.forEach(function (item) { list.appendChild(card(item)); });
    if (!items.length) list.appendChild(el("li", { className: "muted empty", text: "No requests match." }));
    $("summary").textContent = items.length + (items.length === 1 ? " request" : " requests") +
      " · updated " + new Date().toLocaleTimeString();
    if (S.openId !== null && !items.some(function (i) { return i.id === S.openId; })) {
      S.openId = null;
      S.detail = null;
    }
  }

  function refresh() {
    return D.api("GET", "/api/requests" + query()).then(function (r) {
      if (r.ok) render(r.data.items);
      else flash(r.data.error || "Could not load the requests.", "error");
    }).catch(function () {});
  }

  /* ------------------------------------------------------------ one request */

  function typing() {
    var active = document.activeElement;
    return !!(S.detail && active && S.detail.contains(active) && /INPUT|TEXTAREA|SELECT/.test(active.tagName));
  }

  function toggleDetail(id) {
    if (S.openId === id) {
      S.openId = null;
      S.detail = null;
      render(S.items);
      return;
    }
    S.openId = id;
    S.detail = el("div", { className: "request-detail muted", text: "Loading…" });
    render(S.items);
    loadDetail(id);
  }

  function loadDetail(id) {
    return D.api("GET", "/api/requests/" + id).then(function (r) {
      if (S.openId !== id) return;
      if (!r.ok) { S.detail = el("div", { className: "request-detail error", text: r.data.error || "Could not load it." }); }
      else {
        S.detail = detailNode(r.data);
        var index = S.items.findIndex(function (i) { return i.id === id; });
        if (index >= 0) S.items[index] = r.data.request;
      }
      render(S.items);
    }).catch(function () {});
  }

  function changeText(h) {
    var who = h.actor === "agent" ? (h.agent_name || "an agent") : h.actor;
    var what;
    if (!h.from_status) what = "made the request";
    else if (h.from_status !== h.to_status) what = h.from_status + " → " + h.to_status;
    else if (h.actor === "customer" && Object.keys(h.changed || {}).join() === "notes") what = "added a note";
    else what = "edited";
    return who + " · " + what;
  }

  function changedText(changed) {
    return Object.keys(changed || {}).map(function (key) {
      var pair = changed[key];
      return key + ": " + (pair[0] === null ? "–" : pair[0]) + " → " + (pair[1] === null ? "–" : pair[1]);
    }).join("; ");
  }

  function textState(h) {
    if (!h.text_status) return null;
    var said = "Text to customer: " + (TEXT_STATES[h.text_status] || h.text_status);
    if (h.text_reason) said += " (" + (REASONS[h.text_reason] || h.text_reason) + ")";
    return el("div", { className: "small history-text st-" + h.text_status, text: said });
  }

  function historyNode(history) {
    var list = el("ol", { className: "request-history", attrs: { "aria-label": "History" } });
    history.slice().reverse().forEach(function (h) {
      list.appendChild(el("li", { dataset: { to: h.to_status } },
        el("div", {}, D.timeEl(h.at), " · ", changeText(h)),
        h.note ? el("div", { className: "history-note", text: "Note: " + h.note }) : null,
        Object.keys(h.changed || {}).length ? el("div", { className: "small muted", text: changedText(h.changed) }) : null,
        textState(h)));
    });
    if (!history.length) list.appendChild(el("li", { className: "muted", text: "No changes recorded." }));
    return list;
  }

  function outcomeForm(item, said) {
    var note = el("textarea", {
      className: "outcome-note",
      attrs: { rows: "2", maxlength: String(NOTE_MAX), "aria-label": "Note for the customer (texted with the outcome)",
        placeholder: "Note for the customer (optional, texted)" }
    });
    var count = el("span", { className: "small muted note-count", text: "0/" + NOTE_MAX });
    note.addEventListener("input", function () { count.textContent = note.value.length + "/" + NOTE_MAX; });
    var buttons = el("div", { className: "row" });
    [["confirm", "Confirm", "success"], ["decline", "Decline", "danger-button"]].forEach(function (a) {
      if (CAN[a[0]].indexOf(item.status) < 0) return;
      buttons.appendChild(el("button", {
        className: a[2] + " " + a[0], text: a[1], attrs: { type: "button" },
        on: { click: function (e) { act(item, a[0], note.value, e.target, said); } }
      }));
    });
    buttons.appendChild(count);
    return el("div", { className: "outcome" },
      el("label", { className: "small muted", text: "Confirm or decline: the customer gets a text" }), note, buttons);
  }

  function field(label, input) {
    return el("label", { className: "edit-field" }, el("span", { className: "small muted", text: label }), input);
  }

  function editForm(item, rooms, said) {
    var checkIn = el("input", { className: "edit-check-in", attrs: { type: "date", value: item.check_in } });
    var checkOut = el("input", { className: "edit-check-out", attrs: { type: "date", value: item.check_out } });
    var guestsBox = el("input", { className: "edit-guests", attrs: { type: "number", min: "1", max: "99", value: String(item.guests) } });
    var room = el("select", { className: "edit-room" }, el("option", { text: "any", attrs: { value: "" } }));
    rooms.forEach(function (r) { room.appendChild(el("option", { text: r, attrs: { value: r } })); });
    room.value = item.room_type || "";
    var notes = el("textarea", { className: "edit-notes", text: item.notes || "", attrs: { rows: "2", maxlength: "1000" } });
    var why = el("input", { className: "edit-note", attrs: { type: "text", maxlength: "1000", placeholder: "Why (internal)" } });
    var save = el("button", { className: "primary save-edit", text: "Save changes", attrs: { type: "submit" } });
    var form = el("form", { className: "edit-form" },
      el("div", { className: "edit-grid" },
        field("Check-in", checkIn), field("Check-out", checkOut), field("Guests", guestsBox), field("Room", room)),
      field("Notes on the request", notes), field("Note for the history", why),
      el("div", { className: "row" }, save,
        el("span", { className: "small muted", text: "Saved to the history; the customer is not texted." })));
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var body = { note: why.value };
      if (checkIn.value !== item.check_in) body.check_in = checkIn.value;
      if (checkOut.value !== item.check_out) body.check_out = checkOut.value;
      if (Number(guestsBox.value) !== item.guests) body.guests = Number(guestsBox.value);
      if ((room.value || null) !== (item.room_type || null)) body.room_type = room.value || null;
      if ((notes.value.trim() || null) !== (item.notes || null)) body.notes = notes.value;
      save.disabled = true;
      D.api("POST", "/api/requests/" + item.id + "/edit", body).then(function (r) {
        save.disabled = false;
        if (!r.ok) { said.textContent = r.data.error || "Could not save."; said.className = "said error"; return; }
        flash(item.ref + " updated.");
        afterChange(item.id);
      }, function () { save.disabled = false; });
    });
    return el("details", { className: "edit" }, el("summary", { text: "Edit details" }), form);
  }

  function detailNode(data) {
    var item = data.request;
    var said = el("div", { className: "said", attrs: { role: "status" } });
    var node = el("div", { className: "request-detail" });
    if (item.status !== "cancelled") node.appendChild(outcomeForm(item, said));
    else node.appendChild(el("p", { className: "muted small", text: "Cancelled by the customer: nothing to do." }));
    node.appendChild(said);
    if (EDITABLE.indexOf(item.status) >= 0) node.appendChild(editForm(item, data.rooms || [], said));
    node.appendChild(el("h3", { text: "History" }));
    node.appendChild(historyNode(data.history));
    return node;
  }

  function outcomeFlash(item, action, text) {
    var done = item.ref + (action === "confirm" ? " confirmed" : " declined");
    if (text.status === "suppressed") {
      flash(done + ". Not texted: " + (REASONS[text.reason] || text.reason) + ".", "warn");
    } else if (text.status === "scheduled") {
      flash(done + ". The text goes out after quiet hours (" + D.clock(text.not_before) + ").", "ok");
    } else {
      flash(done + ". The customer is being texted.", "ok");
    }
  }

  function act(item, action, note, button, said) {
    button.disabled = true;
    said.textContent = "";
    D.api("POST", "/api/requests/" + item.id + "/" + action, { note: note }).then(function (r) {
      button.disabled = false;
      if (!r.ok) {
        said.textContent = r.data.error || "Could not do that.";
        said.className = "said error";
        if (r.status === 409) afterChange(item.id);
        return;
      }
      outcomeFlash(item, action, r.data.text);
      afterChange(item.id);
    }, function () { button.disabled = false; });
  }

  function afterChange(id) {
    refresh().then(function () { if (S.openId === id) loadDetail(id); });
  }

  /* ----------------------------------------------------------------- start */

  function init() {
    D.loadMe().then(function (me) {
      D.initHeader(me);
      $("filters").addEventListener("submit", function (e) { e.preventDefault(); refresh(); });
      $("filter-status").addEventListener("change", refresh);
      var soon = D.debounce(function () { if (!typing()) refresh(); }, 1000);
      D.live({
        desk: function (data) {
          soon();
          if (data.kind === "agent_status" && data.agent_id === me.agent.id) D.refreshStatus();
        },
        hello: refresh
      }, $("live"));
      setInterval(function () { if (!typing()) refresh(); }, 20000);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
