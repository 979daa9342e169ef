/* Searching past conversations from the console: results in the sidebar, a result's
 * transcript read-only in a full-screen panel (phones) or a centred one (desktop).
 * Everything customers typed is inserted as text, never as HTML. */
(function () {
  "use strict";
  var D = window.Desk;
  var el = D.el;
  var $ = D.$;

  var PAGE = 20;
  var S = { query: "", next: null, seq: 0, opener: null };
  var OWNER = { bot: "With the bot", queue: "Waiting", agent: "With " };
  var MATCHED = { phone: "phone", name: "name", order: "order", text: "text" };

  function ownerText(item) {
    if (item.status === "agent") return OWNER.agent + (item.agent_name || "an agent");
    if (item.status === "queue") return OWNER.queue + " · " + (item.team || "general");
    return OWNER.bot;
  }

  function resultItem(item) {
    var top = el("div", { className: "item-top" },
      el("span", { className: "item-name", text: item.customer_name || item.phone }),
      el("span", { className: "time", text: D.clock(item.last_at) }));
    var tags = el("div", { className: "item-tags" },
      el("span", { className: "tag", text: ownerText(item) }),
      item.matched.map(function (m) {
        return el("span", { className: "tag match", text: "matched " + (MATCHED[m] || m) });
      }));
    var button = el("button", {
      className: "item",
      attrs: { type: "button", "data-id": item.conversation_id, "data-phone": item.phone },
      on: { click: function () { openPast(item, button); } }
    }, el("span", { className: "avatar small", text: D.initials(item.customer_name || "#") }),
      el("span", { className: "item-body" }, top, tags,
        item.customer_name ? el("div", { className: "item-phone", text: item.phone }) : null,
        el("div", { className: "item-preview", text: item.snippet || "—" })));
    return el("li", { className: "chat" }, button);
  }

  function run(query, offset) {
    var seq = ++S.seq;
    var path = "/api/search?" + new URLSearchParams({ q: query, limit: String(PAGE), offset: String(offset) });
    $("search-section").hidden = false;
    $("search-empty").textContent = "Searching…";
    $("search-empty").hidden = false;
    return D.api("GET", path).then(function (r) {
      if (seq !== S.seq) return;
      var list = $("search-results");
      if (!offset) D.clear(list);
      if (!r.ok) {
        $("search-empty").textContent = r.data.error || "Search failed.";
        $("search-more").hidden = true;
        return;
      }
      r.data.items.forEach(function (item) { list.appendChild(resultItem(item)); });
      S.next = r.data.next_offset;
      var shown = list.children.length;
      $("search-count").textContent = String(shown) + (S.next !== null ? "+" : "");
      $("search-empty").textContent = shown ? "" : "No conversations match “" + query + "”.";
      $("search-empty").hidden = shown > 0;
      $("search-more").hidden = S.next === null;
    }).catch(function () {});
  }

  function submit(event) {
    event.preventDefault();
    var query = $("search-q").value.trim();
    if (!query) { clear(); return; }
    S.query = query;
    run(query, 0);
  }

  function clear() {
    S.seq++;
    S.query = "";
    S.next = null;
    $("search-q").value = "";
    D.clear($("search-results"));
    $("search-section").hidden = true;
  }

  /* ------------------------------------------------------------- transcript */

  function entryNode(entry, customerName) {
    if (entry.kind === "activity") {
      return el("li", { className: "entry activity" }, el("span", { text: entry.text }), D.timeEl(entry.at));
    }
    if (entry.kind === "note") {
      return el("li", { className: "entry note" },
        el("div", { className: "note-head" },
          el("span", { className: "note-label", text: "Internal note" }),
          el("span", { text: " · " + entry.author_label + " · " }), D.timeEl(entry.at)),
        el("div", { className: "note-body", text: entry.text }));
    }
    var who = entry.author === "customer" ? "customer"
      : entry.author.indexOf("agent:") === 0 ? "agent" : "bot";
    var label = who === "customer" && customerName ? customerName : entry.author_label;
    var media = (entry.media || []).map(function (url, i) {
      return D.link(url, "📷 Picture" + (entry.media.length > 1 ? " " + (i + 1) : ""), "media-link");
    });
    return el("li", {
      className: "entry msg " + entry.direction + " from-" + who,
      dataset: { id: String(entry.id), author: entry.author }
    }, entry.text ? el("div", { className: "bubble" }, D.linkify(entry.text)) : null,
      media.length ? el("div", { className: "media-links" }, media) : null,
      el("div", { className: "meta" }, el("span", { className: "who", text: label }), D.timeEl(entry.at)));
  }

  function openPast(item, opener) {
    S.opener = opener;
    $("past-title").textContent = item.customer_name || item.phone;
    var sub = $("past-sub");
    D.clear(sub);
    sub.appendChild(el("span", { className: "phone", text: item.phone }));
    sub.appendChild(el("span", { className: "owner owner-" + item.status, text: ownerText(item) }));
    var list = $("past-transcript");
    D.clear(list);
    list.appendChild(el("li", { className: "entry activity", text: "Loading…" }));
    $("past").hidden = false;
    document.body.classList.add("past-open");
    $("past-close").focus();
    D.api("GET", "/api/transcripts/" + item.conversation_id).then(function (r) {
      D.clear(list);
      if (!r.ok) {
        list.appendChild(el("li", { className: "entry activity", text: r.data.error || "Could not load it." }));
        return;
      }
      var entries = r.data.conversation.entries;
      entries.forEach(function (entry) { list.appendChild(entryNode(entry, r.data.customer_name)); });
      if (!entries.length) list.appendChild(el("li", { className: "entry activity", text: "No texts yet." }));
      list.scrollTop = list.scrollHeight;
    }).catch(function () {});
  }

  function closePast() {
    if ($("past").hidden) return;
    $("past").hidden = true;
    document.body.classList.remove("past-open");
    if (S.opener && document.body.contains(S.opener)) S.opener.focus();
  }

  function init() {
    $("search-form").addEventListener("submit", submit);
    $("search-clear").addEventListener("click", clear);
    $("search-more").addEventListener("click", function () {
      if (S.next !== null) run(S.query, S.next);
    });
    $("past-close").addEventListener("click", closePast);
    $("past").addEventListener("click", function (e) { if (e.target === $("past")) closePast(); });
    document.addEventListener("keydown", function (e) { if (e.key === "Escape") closePast(); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
