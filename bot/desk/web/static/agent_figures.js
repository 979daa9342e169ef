/* The supervisor page's per-agent table over a range of dates in the browser's (the
 * supervisor's) timezone: chats handled, first reply and handling time (medians), CSAT. */
(function () {
  "use strict";
  var D = window.Desk;
  var el = D.el;
  var $ = D.$;
  var NONE = "—";

  function localDate(d) {
    return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" +
      String(d.getDate()).padStart(2, "0");
  }

  function zone() {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return ""; }
  }

  function median(seconds, count) {
    if (seconds === null || seconds === undefined) return NONE;
    return D.duration(seconds) + " (" + count + ")";
  }

  function num(text) { return el("td", { className: "num", text: text }); }

  function render(report) {
    var body = $("agent-figures");
    D.clear(body);
    report.agents.forEach(function (a) {
      body.appendChild(el("tr", { dataset: { agent: a.username } },
        el("td", {}, el("strong", { text: a.name }), el("div", { className: "muted small", text: a.teams.join(", ") })),
        num(String(a.handled)),
        num(median(a.first_reply_median_seconds, a.first_reply_count)),
        num(median(a.handling_median_seconds, a.handling_count)),
        num(a.csat === null || a.csat === undefined ? NONE : String(a.csat))));
    });
    if (!report.agents.length) body.appendChild(el("tr", {}, el("td", { text: "No agents.", attrs: { colspan: "5" } })));
    var span = report.date_from === report.date_to ? D.day(report.date_from)
      : D.day(report.date_from) + " – " + D.day(report.date_to);
    $("range-status").textContent = "Showing " + span + ".";
  }

  function load() {
    var from = $("range-from").value;
    var to = $("range-to").value;
    var params = new URLSearchParams({ from: from, to: to });
    var tz = zone();
    if (tz) params.set("tz", tz);
    return D.api("GET", "/api/supervisor/agent-figures?" + params).then(function (r) {
      if (r.ok) render(r.data.figures);
      else $("range-status").textContent = r.data.error || "Could not load the figures.";
    }).catch(function () {});
  }

  function init() {
    var today = localDate(new Date());
    $("range-from").value = today;
    $("range-to").value = today;
    $("range-tz").textContent = "Dates in " + (zone() || "your timezone");
    $("range-form").addEventListener("submit", function (e) { e.preventDefault(); load(); });
    $("range-from").addEventListener("change", function () {
      if ($("range-to").value < $("range-from").value) $("range-to").value = $("range-from").value;
    });
    load();
    setInterval(load, 60000);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
