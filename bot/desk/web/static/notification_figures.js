/* The supervisor page's notification figures (last 7 days): requested, sent, delivered,
 * replied within 24 hours, suppressed and failed, by template and in total. */
(function () {
  "use strict";
  var D = window.Desk;
  var el = D.el;
  var $ = D.$;
  var COLUMNS = ["requested", "sent", "delivered", "replied", "suppressed", "failed"];

  function row(name, counts, strong) {
    var cells = COLUMNS.map(function (c) {
      return el("td", { className: "num", dataset: { column: c }, text: String(counts[c]) });
    });
    var label = strong ? el("strong", { text: name }) : document.createTextNode(name);
    return el("tr", { dataset: { template: strong ? "total" : name } }, el("td", {}, label), cells);
  }

  function render(report) {
    var body = $("notification-figures");
    D.clear(body);
    report.templates.forEach(function (t) { body.appendChild(row(t.template, t, false)); });
    if (!report.templates.length) {
      body.appendChild(el("tr", {}, el("td", { text: "No notifications yet.", attrs: { colspan: "7" } })));
    }
    body.appendChild(row("Total", report.total, true));
    $("notification-figures-status").textContent = "";
  }

  function load() {
    return D.api("GET", "/api/supervisor/notification-figures?days=7").then(function (r) {
      if (r.ok) render(r.data.figures);
      else $("notification-figures-status").textContent = r.data.error || "Could not load them.";
    }).catch(function () {});
  }

  function init() {
    load();
    setInterval(load, 60000);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
