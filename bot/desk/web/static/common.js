/* Shared by the console and the supervisor page: DOM building (text only, never HTML),
 * the JSON API client with the CSRF header, the live stream, formatting, the top bar. */
(function (global) {
  "use strict";

  var state = { me: null, csrf: "" };

  /* el("div", {className: "x", text: "y", attrs: {...}, on: {click: fn}}, child...) */
  function el(tag, props) {
    var node = document.createElement(tag);
    props = props || {};
    if (props.className) node.className = props.className;
    if (props.text !== undefined && props.text !== null) node.textContent = String(props.text);
    if (props.attrs) {
      Object.keys(props.attrs).forEach(function (key) {
        var value = props.attrs[key];
        if (value !== undefined && value !== null && value !== false) {
          node.setAttribute(key, value === true ? "" : String(value));
        }
      });
    }
    if (props.dataset) {
      Object.keys(props.dataset).forEach(function (key) { node.dataset[key] = props.dataset[key]; });
    }
    if (props.on) {
      Object.keys(props.on).forEach(function (key) { node.addEventListener(key, props.on[key]); });
    }
    for (var i = 2; i < arguments.length; i++) append(node, arguments[i]);
    return node;
  }

  function append(node, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { append(node, c); }); return; }
    node.appendChild(typeof child === "string" || typeof child === "number"
      ? document.createTextNode(String(child)) : child);
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function $(id) { return document.getElementById(id); }

  function signIn() { global.location.assign("/login"); }

  /* fetch JSON; {ok, status, data}. 401 sends the browser to the sign-in page. */
  function api(method, path, body) {
    var options = { method: method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (method !== "GET") {
      options.headers["X-CSRF-Token"] = state.csrf;
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body || {});
    }
    return fetch(path, options).then(function (response) {
      if (response.status === 401) { signIn(); throw new Error("signed out"); }
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { ok: response.ok, status: response.status, data: data };
      });
    });
  }

  function loadMe() {
    return api("GET", "/api/me").then(function (r) {
      state.me = r.data.agent;
      state.csrf = r.data.csrf_token;
      return r.data;
    });
  }

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      if (timer) return;
      timer = setTimeout(function () { timer = null; fn(); }, ms);
    };
  }

  /* The live stream: handlers.desk(data), handlers.conversation(data), handlers.hello(). */
  function live(handlers, indicator) {
    var source = null;
    var retry = null;
    function setState(text, cls) {
      if (!indicator) return;
      indicator.hidden = false;
      indicator.textContent = text;
      indicator.className = "live " + cls;
    }
    function parse(event) {
      try { return JSON.parse(event.data); } catch (e) { return {}; }
    }
    function connect() {
      retry = null;
      source = new EventSource("/api/stream");
      source.addEventListener("open", function () { setState("Live", "on"); });
      source.addEventListener("hello", function () {
        setState("Live", "on");
        if (handlers.hello) handlers.hello();
      });
      source.addEventListener("desk", function (e) { if (handlers.desk) handlers.desk(parse(e)); });
      source.addEventListener("conversation", function (e) {
        if (handlers.conversation) handlers.conversation(parse(e));
      });
      source.addEventListener("signed_out", function () { source.close(); signIn(); });
      source.addEventListener("error", function () {
        setState("Reconnecting…", "off");
        if (source.readyState === EventSource.CLOSED && !retry) {
          /* a refused stream does not retry by itself: check the session, then reconnect */
          retry = setTimeout(function () {
            api("GET", "/api/me").then(connect, function () {});
          }, 2000);
        }
      });
    }
    connect();
    return { close: function () { if (source) source.close(); } };
  }

  function parseTime(iso) { return iso ? new Date(iso) : null; }

  /* Times are shown in the browser's (the agent's) timezone, never as ISO strings. */
  function clock(iso) {
    var d = parseTime(iso);
    if (!d || isNaN(d.getTime())) return "";
    var now = new Date();
    var time = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    if (d.toDateString() === now.toDateString()) return time;
    var options = { month: "short", day: "numeric" };
    if (d.getFullYear() !== now.getFullYear()) options.year = "numeric";
    return d.toLocaleDateString([], options) + " " + time;
  }

  /* The full local date and time, for tooltips. */
  function fullTime(iso) {
    var d = parseTime(iso);
    if (!d || isNaN(d.getTime())) return "";
    return d.toLocaleString([], {
      weekday: "short", year: "numeric", month: "short", day: "numeric",
      hour: "2-digit", minute: "2-digit", timeZoneName: "short"
    });
  }

  /* <time> with the short local form, the full one as its tooltip. */
  function timeEl(iso) {
    return el("time", { text: clock(iso), attrs: { datetime: iso || null, title: fullTime(iso) || null } });
  }

  /* A date as "Sat, Dec 5" (the year when not this one): a calendar date ("2026-12-05") as
   * it is, a moment ("2026-12-05T03:00:00Z") on the agent's local calendar. */
  function day(iso) {
    var text = String(iso || "");
    var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
    var d = m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : parseTime(text);
    if (!d || isNaN(d.getTime())) return text;
    var options = { weekday: "short", month: "short", day: "numeric" };
    if (d.getFullYear() !== new Date().getFullYear()) options.year = "numeric";
    return d.toLocaleDateString([], options);
  }

  /* The URL if it is an absolute http(s) URL, else null (no javascript:, data: ...). */
  function safeUrl(url) {
    try {
      var parsed = new URL(String(url));
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch (e) { return null; }
  }

  /* A link that opens in a new tab without giving that page a handle on this one. */
  function link(url, text, className) {
    var href = safeUrl(url);
    if (!href) return el("span", { className: className, text: text });
    return el("a", {
      className: className, text: text,
      attrs: { href: href, target: "_blank", rel: "noopener noreferrer" }
    });
  }

  /* Text with its http(s) URLs as links; everything else stays text nodes. */
  function linkify(text) {
    var out = [];
    var pattern = /\bhttps?:\/\/[^\s<>"']+/gi;
    var last = 0;
    var match;
    text = String(text || "");
    while ((match = pattern.exec(text)) !== null) {
      var url = match[0].replace(/[.,;:!?)\]]+$/, "");
      if (match.index > last) out.push(text.slice(last, match.index));
      out.push(safeUrl(url) ? link(url, url) : url);
      last = match.index + url.length;
      pattern.lastIndex = last;
    }
    if (last < text.length) out.push(text.slice(last));
    return out;
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    seconds = Math.max(0, Math.round(seconds));
    if (seconds < 60) return seconds + "s";
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + "m " + String(seconds % 60).padStart(2, "0") + "s";
    var hours = Math.floor(minutes / 60);
    return hours + "h " + String(minutes % 60).padStart(2, "0") + "m";
  }

  function percent(value) {
    return value === null || value === undefined ? "–" : Math.round(value * 100) + "%";
  }

  /* Up to two initials from the name's words that have letters: "Dana (orders)" -> "DO". */
  function initials(name) {
    var letter = /[\p{L}\p{N}]/u;
    var text = String(name || "").trim().split(/\s+/).map(function (word) {
      return Array.from(word).filter(function (ch) { return letter.test(ch); })[0] || "";
    }).filter(Boolean).slice(0, 2).join("");
    return (text || "?").toUpperCase();
  }

  /* Top bar (static/topbar.html): name, status select, supervisor links, sign out. */
  function initHeader(me, onStatus) {
    $("me-name").textContent = me.agent.name;
    $("me-role").textContent = me.agent.role === "supervisor" ? "Supervisor" : "Agent";
    $("me-avatar").textContent = initials(me.agent.name);
    var brand = $("business");
    if (brand && me.business_name) brand.textContent = me.business_name;
    document.querySelectorAll('.tabs-nav [data-role="supervisor"]').forEach(function (link) {
      link.hidden = me.agent.role !== "supervisor";
    });
    var select = $("status");
    select.value = me.agent.status;
    select.className = "status-select " + me.agent.status;
    select.addEventListener("change", function () {
      var wanted = select.value;
      api("POST", "/api/status", { status: wanted }).then(function (r) {
        if (r.ok) {
          state.me.status = wanted;
          select.className = "status-select " + wanted;
          if (onStatus) onStatus(r.data);
        }
      });
    });
    $("logout").addEventListener("click", function () {
      api("POST", "/logout").then(signIn, signIn);
    });
  }

  function refreshStatus() {
    return loadMe().then(function (me) {
      var select = $("status");
      if (select && document.activeElement !== select) {
        select.value = me.agent.status;
        select.className = "status-select " + me.agent.status;
      }
      return me;
    });
  }

  global.Desk = {
    state: state, el: el, clear: clear, $: $, api: api, loadMe: loadMe, live: live,
    debounce: debounce, clock: clock, fullTime: fullTime, timeEl: timeEl, day: day,
    duration: duration, percent: percent, safeUrl: safeUrl, link: link, linkify: linkify,
    parseTime: parseTime, initials: initials, initHeader: initHeader,
    refreshStatus: refreshStatus
  };
})(window);
