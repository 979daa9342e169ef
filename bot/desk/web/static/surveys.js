/* The supervisor page's survey section: CSAT per agent and team and NPS over a date range,
 * the CSV export, and NPS campaigns (start one with a filter, follow its progress). */
(function () {
  "use strict";
  var D = window.Desk;
  var el = D.el;
  var $ = D.$;

  function isoDay(d) {
    return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0");
  }

  function range() {
    return "from=" + encodeURIComponent($("survey-from").value) + "&to=" + encodeURIComponent($("survey-to").value);
  }

  function kpi(label, value, hint, id) {
    return el("div", { className: "kpi", attrs: { id: id } },
      el("div", { className: "kpi-label", text: label }),
      el("div", { className: "kpi-value", text: value }),
      el("div", { className: "kpi-hint", text: hint }));
  }

  function row(values, data) {
    var tr = el("tr", { dataset: data || {} });
    values.forEach(function (v) { tr.appendChild(v instanceof Node ? el("td", {}, v) : el("td", { text: v })); });
    return tr;
  }

  function average(v) { return v === null || v === undefined ? "–" : Number(v).toFixed(1); }

  function groups(tbody, list, key, empty) {
    D.clear(tbody);
    list.forEach(function (g) {
      var data = {};
      data[key] = g.key;
      tbody.appendChild(row([g.label, D.percent(g.satisfied_share), average(g.average), String(g.count)], data));
    });
    if (!list.length) tbody.appendChild(row([empty, "", "", ""]));
  }

  function nps(score) {
    if (score === null || score === undefined) return "–";
    return (score > 0 ? "+" : "") + Math.round(score);
  }

  function campaignRow(c) {
    var f = c.filter;
    var chosen = "last " + f.days + " days" + (f.team ? " · " + f.team : "") +
      (f.csat_min || f.csat_max ? " · CSAT " + (f.csat_min || 1) + "–" + (f.csat_max || 5) : "");
    var suppressed = el("span", { text: String(c.suppressed) });
    var cell = el("div", {}, suppressed);
    if (c.suppressed_phones.length) {
      var list = el("ul", { className: "suppressed-list muted small" });
      c.suppressed_phones.forEach(function (s) {
        list.appendChild(el("li", { text: s.phone + " (" + String(s.reason || "").replace(/_/g, " ") + ")" }));
      });
      cell.appendChild(list);
    }
    return row([
      el("span", {}, el("strong", { text: c.name }), el("div", { className: "muted small", text: chosen })),
      String(c.matched), String(c.sent), cell, String(c.answered)
    ], { campaign: String(c.id) });
  }

  function render(data) {
    var f = data.figures;
    var k = $("survey-kpis");
    D.clear(k);
    k.appendChild(kpi("CSAT", D.percent(f.csat.satisfied_share),
      "rated 4–5 · avg " + average(f.csat.average) + " · " + f.csat.count + " ratings", "kpi-csat"));
    k.appendChild(kpi("NPS", nps(f.nps.score),
      f.nps.promoters + " promoters · " + f.nps.passives + " passives · " + f.nps.detractors +
      " detractors (" + f.nps.count + ")", "kpi-nps"));
    groups($("csat-agents"), f.agents, "agent", "No ratings in this range.");
    groups($("csat-teams"), f.teams, "team", "No ratings in this range.");
    var teams = $("nps-team");
    var chosen = teams.value;
    while (teams.options.length > 1) teams.remove(1);
    (data.teams || []).forEach(function (t) { teams.appendChild(el("option", { text: t, attrs: { value: t } })); });
    teams.value = chosen;
    var list = $("nps-campaigns");
    D.clear(list);
    data.campaigns.forEach(function (c) { list.appendChild(campaignRow(c)); });
    if (!data.campaigns.length) list.appendChild(row(["No campaigns yet.", "", "", "", ""]));
    $("survey-csv").setAttribute("href", "/api/supervisor/surveys.csv?" + range());
    $("survey-status").textContent = "CSAT and NPS answered " + f.start + " to " + f.end + ".";
  }

  function refresh() {
    return D.api("GET", "/api/supervisor/surveys?" + range()).then(function (r) {
      if (r.ok) render(r.data);
      else $("survey-status").textContent = r.data.error || "Could not load the figures.";
    }).catch(function () {});
  }

  function number(id) {
    var v = $(id).value;
    return v === "" ? null : Number(v);
  }

  function startCampaign(event) {
    event.preventDefault();
    var button = $("nps-start");
    var said = $("nps-status");
    button.disabled = true;
    D.api("POST", "/api/supervisor/nps-campaigns", {
      name: $("nps-name").value,
      days: number("nps-days"),
      team: $("nps-team").value,
      csat_min: number("nps-csat-min"),
      csat_max: number("nps-csat-max")
    }).then(function (r) {
      said.textContent = r.ok
        ? "Started: " + r.data.campaign.matched + " customers match."
        : (r.data.error || "Could not start the campaign.");
      return refresh();
    }).catch(function () { said.textContent = "Could not start the campaign."; })
      .then(function () { button.disabled = false; });
  }

  function init() {
    var today = isoDay(new Date());
    $("survey-from").value = today;
    $("survey-to").value = today;
    $("survey-range").addEventListener("submit", function (event) { event.preventDefault(); refresh(); });
    $("nps-form").addEventListener("submit", startCampaign);
    D.loadMe().then(function () {
      refresh();
      setInterval(refresh, 15000);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
