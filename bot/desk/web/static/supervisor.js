/* The supervisor page: queues, agents' load and today's figures, updated live. */
(function () {
  "use strict";
  var D = window.Desk;
  var el = D.el;
  var $ = D.$;

  var REASONS = {
    asked: "Asked for a person",
    fallback: "Bot didn't understand",
    action_error: "Bot error",
    order_issue: "Order issue",
    booking_issue: "Booking issue",
    low_csat: "Low CSAT rating"
  };

  function kpi(label, value, hint, id) {
    return el("div", { className: "kpi", attrs: { id: id } },
      el("div", { className: "kpi-label", text: label }),
      el("div", { className: "kpi-value", text: value }),
      el("div", { className: "kpi-hint", text: hint }));
  }

  function cells(row, values) {
    values.forEach(function (v) { row.appendChild(v instanceof Node ? el("td", {}, v) : el("td", { text: v })); });
    return row;
  }

  // Whether the desk hands this person waiting chats (supervisors start without).
  function autoAssignBox(a) {
    var box = el("input", { attrs: { type: "checkbox", "aria-label": "Auto-assign chats to " + a.name } });
    var word = el("span");
    function show(on) { box.checked = on; word.textContent = on ? " on" : " off"; }
    show(!!a.auto_assign);
    box.addEventListener("change", function () {
      var wanted = box.checked;
      box.disabled = true;
      D.api("POST", "/api/supervisor/agents/" + a.id + "/auto-assign", { enabled: wanted })
        .then(function (r) { show(r.ok ? r.data.auto_assign : !wanted); })
        .catch(function () { show(!wanted); })
        .then(function () { box.disabled = false; });
    });
    return el("label", { className: "auto-assign" }, box, word);
  }

  // Move a chat its agent has not answered to someone else (409: it moved meanwhile).
  function reassignControl(u, agents) {
    var pick = el("select", { attrs: { "aria-label": "Reassign " + (u.customer_name || u.phone) + " to" } });
    agents.forEach(function (a) {
      if (a.id === u.agent_id) return;
      pick.appendChild(el("option", { text: a.name + " · " + a.status + " " + a.load + "/" + a.capacity, attrs: { value: String(a.id) } }));
    });
    var go = el("button", { className: "small", text: "Reassign", attrs: { type: "button" } });
    var said = el("div", { className: "muted small reassign-status", attrs: { role: "status" } });
    go.addEventListener("click", function () {
      go.disabled = true;
      D.api("POST", "/api/supervisor/conversations/" + u.conversation_id + "/reassign",
        { from_agent_id: u.agent_id, to_agent_id: Number(pick.value) })
        .then(function (r) {
          said.textContent = r.ok ? "Reassigned." : (r.data.error || "Could not reassign.");
          if (r.ok) refresh();
        })
        .catch(function () { said.textContent = "Could not reassign."; })
        .then(function () { go.disabled = false; });
    });
    return el("span", { className: "reassign" }, pick, go, said);
  }

  function render(o) {
    var t = o.today;
    var k = $("kpis");
    D.clear(k);
    k.appendChild(kpi("Containment", D.percent(t.containment),
      t.contained + " of " + t.conversations + " conversations without a person", "kpi-containment"));
    k.appendChild(kpi("Conversations today", String(t.conversations), t.handoffs + " handoffs", "kpi-conversations"));
    var waiting = o.queues.reduce(function (n, q) { return n + q.waiting; }, 0);
    var longest = o.queues.reduce(function (n, q) { return Math.max(n, q.longest_wait_seconds); }, 0);
    k.appendChild(kpi("Waiting now", String(waiting), "longest " + D.duration(longest), "kpi-waiting"));
    k.appendChild(kpi("First human reply", D.duration(t.first_reply.median_seconds),
      "median · avg " + D.duration(t.first_reply.avg_seconds) + " (" + t.first_reply.count + ")", "kpi-first-reply"));
    k.appendChild(kpi("Handling time", D.duration(t.handling.avg_seconds),
      "average claim → resolve (" + t.handling.count + ")", "kpi-handling"));

    var queues = $("queues");
    D.clear(queues);
    o.queues.forEach(function (q) {
      queues.appendChild(cells(el("tr", { dataset: { team: q.team } }),
        [q.team, String(q.waiting), q.waiting ? D.duration(q.longest_wait_seconds) : "–"]));
    });

    var agents = $("agents");
    D.clear(agents);
    o.agents.forEach(function (a) {
      var bar = el("span", { className: "load" },
        el("progress", { attrs: { max: String(Math.max(1, a.capacity)), value: String(Math.min(a.load, a.capacity)) } }),
        el("span", { text: a.load + "/" + a.capacity }));
      agents.appendChild(cells(el("tr", { dataset: { agent: a.username } }), [
        el("span", {}, el("strong", { text: a.name }), a.role === "supervisor" ? el("small", { className: "muted", text: " supervisor" }) : null),
        el("span", { className: "status-dot " + a.status, text: a.status }),
        a.teams.join(", "),
        bar,
        a.last_seen_at ? D.clock(a.last_seen_at) : "–",
        autoAssignBox(a)
      ]));
    });

    var reasons = $("reasons");
    D.clear(reasons);
    t.by_reason.forEach(function (r) {
      reasons.appendChild(cells(el("tr", { dataset: { reason: r.reason } }),
        [REASONS[r.reason] || r.reason, String(r.handoffs), D.percent(r.rate)]));
    });
    if (!t.by_reason.length) reasons.appendChild(cells(el("tr"), ["No handoffs today.", "", ""]));

    var held = $("unanswered");
    D.clear(held);
    o.unanswered.forEach(function (u) {
      held.appendChild(cells(el("tr", { dataset: { id: String(u.conversation_id) } }), [
        el("a", { text: u.customer_name || u.phone, attrs: { href: "/#c=" + u.conversation_id } }),
        u.agent_name,
        u.team,
        D.duration(u.silent_seconds),
        reassignControl(u, o.agents)
      ]));
    });
    if (!o.unanswered.length) held.appendChild(cells(el("tr"), ["Every assigned chat has a reply.", "", "", "", ""]));

    var list = $("waiting");
    D.clear(list);
    o.waiting.forEach(function (w) {
      list.appendChild(cells(el("tr", { dataset: { id: String(w.conversation_id) } }), [
        el("span", {}, el("strong", { text: w.customer_name || w.phone }), el("div", { className: "muted small", text: w.preview })),
        w.team,
        REASONS[w.reason] || w.reason || "",
        D.duration(w.waiting_seconds),
        el("a", { text: "Open", attrs: { href: "/#c=" + w.conversation_id } })
      ]));
    });
    if (!o.waiting.length) list.appendChild(cells(el("tr"), ["Nobody is waiting.", "", "", "", ""]));
    $("updated").textContent = "Updated " + new Date().toLocaleTimeString() + " · today since " + D.clock(t.since);
  }

  function refresh() {
    return D.api("GET", "/api/supervisor/overview").then(function (r) {
      if (!r.ok) return;
      render(r.data.overview);
      $("maintenance-warning").hidden = r.data.maintenance_alive !== false;
    }).catch(function () {});
  }

  function init() {
    D.loadMe().then(function (me) {
      D.initHeader(me, refresh);
      refresh();
      var soon = D.debounce(refresh, 300);
      D.live({
        desk: function (data) {
          soon();
          if (data.kind === "agent_status" && data.agent_id === me.agent.id) D.refreshStatus();
        },
        hello: refresh
      }, $("live"));
      setInterval(refresh, 15000);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
