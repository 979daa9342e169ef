/* The agent console: queue, my chats, the open conversation, customer panel, composer.
 * Everything people typed is inserted as text (textContent / text nodes), never as HTML. */
(function () {
  "use strict";
  var D = window.Desk;
  var el = D.el;
  var $ = D.$;
  var api = D.api;

  var S = {
    me: null,
    openId: null,
    detail: null,
    perms: {},
    customer: null,
    mode: "reply",
    queueFetchedAt: 0,
    canned: [],
    directory: null,
    loadSeq: 0,
    lastRead: {},
    notice: null,
    noticeKind: null
  };

  var STATUS_LABELS = {
    queued: "Queued",
    sending: "Sending",
    sent: "Sent",
    delivered: "Delivered",
    undelivered: "Undelivered",
    failed: "Failed",
    suppressed: "Not sent · opted out",
    held: "Held for agent · bot silent",
    ignored: "Ignored · opted out",
    received: "Received",
    processing: "Processing"
  };
  var REASONS = {
    asked: "Asked for a person",
    fallback: "Bot didn't understand",
    action_error: "Bot error",
    order_issue: "Order issue",
    booking_issue: "Booking issue",
    low_csat: "Low CSAT rating"
  };

  function reasonLabel(reason) { return REASONS[reason] || reason || "Handoff"; }

  function flash(text, kind) {
    var box = $("flash");
    box.textContent = text;
    box.className = "flash " + (kind || "info");
    box.hidden = false;
    clearTimeout(flash.timer);
    flash.timer = setTimeout(function () { box.hidden = true; }, 5000);
  }

  function banner(text, kind) {
    var box = $("banner");
    if (!text) { box.hidden = true; box.textContent = ""; return; }
    box.textContent = text;
    box.className = "banner " + (kind || "info");
    box.hidden = false;
  }

  /* ---------------------------------------------------------------- lists */

  function displayName(item) { return item.customer_name || item.phone; }

  function chatItem(item, extra) {
    var active = item.conversation_id === S.openId;
    var top = el("div", { className: "item-top" },
      el("span", { className: "item-name", text: displayName(item) }),
      extra.right);
    var tags = el("div", { className: "item-tags" },
      el("span", { className: "tag team", text: item.team }),
      item.reason ? el("span", { className: "tag reason", text: reasonLabel(item.reason) }) : null,
      extra.tags);
    var preview = el("div", { className: "item-preview", text: item.preview || "—" });
    var button = el("button", {
      className: "item" + (active ? " active" : ""),
      attrs: { type: "button", "data-id": item.conversation_id, "data-phone": item.phone },
      on: { click: function () { openConversation(item.conversation_id); } }
    }, el("span", { className: "avatar small", text: D.initials(item.customer_name || "#") }),
      el("span", { className: "item-body" }, top, tags, preview));
    return el("li", { className: "chat" }, button);
  }

  function renderQueue(items) {
    var list = $("queue");
    D.clear(list);
    S.queueFetchedAt = Date.now();
    items.forEach(function (item) {
      var wait = el("span", {
        className: "wait",
        text: D.duration(item.waiting_seconds),
        dataset: { base: String(item.waiting_seconds) },
        attrs: { title: "Waiting time" }
      });
      list.appendChild(chatItem(item, { right: wait }));
    });
    $("queue-count").textContent = String(items.length);
    $("queue-empty").hidden = items.length > 0;
  }

  function renderMine(items) {
    var list = $("mine");
    D.clear(list);
    var unreadTotal = 0;
    items.forEach(function (item) {
      unreadTotal += item.unread;
      var right = item.unread
        ? el("span", { className: "unread", text: String(item.unread), attrs: { title: "Unread texts" } })
        : el("span", { className: "time", text: D.clock(item.preview_at) });
      list.appendChild(chatItem(item, { right: right }));
    });
    $("mine-count").textContent = String(items.length);
    $("mine-empty").hidden = items.length > 0;
    document.title = (unreadTotal ? "(" + unreadTotal + ") " : "") + "Agent desk";
  }

  function tick() {
    var elapsed = (Date.now() - S.queueFetchedAt) / 1000;
    Array.prototype.forEach.call(document.querySelectorAll("#queue .wait"), function (span) {
      span.textContent = D.duration(Number(span.dataset.base) + elapsed);
    });
  }

  function refreshLists() {
    return Promise.all([api("GET", "/api/queue"), api("GET", "/api/my-chats")]).then(function (r) {
      if (r[0].ok) renderQueue(r[0].data.items);
      if (r[1].ok) renderMine(r[1].data.items);
    }).catch(function () {});
  }

  /* ---------------------------------------------------------- conversation */

  function openConversation(id) {
    if (S.openId !== id) {
      if (S.openId !== null) loadCanned();  /* a supervisor may have edited them meanwhile */
      S.openId = id;
      S.detail = null;
      banner("");
      $("transfer-form").hidden = true;
      $("send-status").textContent = "";
      $("send-status").className = "send-status";
      /* a new history entry when coming from the lists, so a phone's back button returns */
      var pushed = !!(history.state && history.state.pushed);
      if (/^#c=/.test(location.hash)) history.replaceState({ pushed: pushed }, "", "#c=" + id);
      else history.pushState({ pushed: true }, "", "#c=" + id);
    }
    document.body.classList.add("show-chat");
    Array.prototype.forEach.call(document.querySelectorAll(".chat-list .item"), function (b) {
      b.classList.toggle("active", Number(b.dataset.id) === id);
    });
    return loadConversation();
  }

  function closeConversation(message, kind) {
    S.openId = null;
    S.detail = null;
    $("conv").hidden = true;
    $("placeholder").hidden = false;
    D.clear($("customer"));
    showLists();
    history.replaceState(null, "", "#");
    if (message) flash(message, kind || (message.indexOf("Already taken") === 0 ? "error" : "warn"));
  }

  /* Phones show the lists or the open chat; the customer panel is a drawer below 1100 px. */
  function showLists() {
    document.body.classList.remove("show-chat");
    setDrawer(false);
  }

  function setDrawer(open) {
    document.body.classList.toggle("drawer-open", open);
    $("drawer-backdrop").hidden = !open;
    $("customer-open").setAttribute("aria-expanded", open ? "true" : "false");
    if (open) $("customer-close").focus();
  }

  function loadConversation() {
    var id = S.openId;
    if (!id) return Promise.resolve();
    var seq = ++S.loadSeq;
    return api("GET", "/api/conversations/" + id).then(function (r) {
      if (seq !== S.loadSeq || id !== S.openId) return;
      var notice = S.notice, noticeKind = S.noticeKind;
      S.notice = null;
      S.noticeKind = null;
      if (!r.ok) {
        closeConversation(notice || (r.status === 404 ? "That conversation does not exist."
          : "That conversation is no longer available to you."), notice ? noticeKind : null);
        return;
      }
      renderConversation(r.data);
      markRead();
    }).catch(function () {});
  }

  function markRead() {
    var detail = S.detail;
    if (!detail || !S.perms.view) return;
    var last = detail.last_message_id;
    if (!last || S.lastRead[detail.id] >= last) return;
    S.lastRead[detail.id] = last;
    api("POST", "/api/conversations/" + detail.id + "/read", { last_message_id: last })
      .then(function () { refreshListsSoon(); }, function () {});
  }

  function ownerText(c) {
    if (c.owner === "agent") return "With " + (c.agent_name || "an agent");
    if (c.owner === "queue") return "Waiting in the " + (c.team || "general") + " queue";
    return "With the bot";
  }

  function renderConversation(data) {
    var c = data.conversation;
    var customer = data.customer;
    var changed = !S.detail || S.detail.id !== c.id;
    S.detail = c;
    S.perms = data.permissions;
    S.customer = customer;
    $("placeholder").hidden = true;
    $("conv").hidden = false;
    $("conv-title").textContent = customer.name || c.phone;
    var sub = $("conv-sub");
    D.clear(sub);
    sub.appendChild(el("span", { className: "phone", text: c.phone }));
    sub.appendChild(el("span", { className: "owner owner-" + c.owner, text: ownerText(c) }));
    if (c.handoff && c.owner !== "bot") {
      sub.appendChild(el("span", { className: "tag reason", text: reasonLabel(c.handoff.reason) }));
    }
    if (customer.opted_out) sub.appendChild(el("span", { className: "tag danger", text: "Opted out" }));
    $("optout-banner").hidden = !customer.opted_out;
    $("claim").hidden = !S.perms.claim;
    $("transfer-open").hidden = !S.perms.transfer;
    $("resolve").hidden = !S.perms.resolve;
    if (!S.perms.transfer) $("transfer-form").hidden = true;
    renderTranscript(c.entries, changed);
    renderCustomer(customer, c);
    renderComposer();
  }

  function statusPill(status) {
    return el("span", { className: "pill st-" + status, text: STATUS_LABELS[status] || status });
  }

  function entryNode(entry, next) {
    if (entry.kind === "activity") {
      return el("li", { className: "entry activity" },
        el("span", { text: entry.text }), D.timeEl(entry.at));
    }
    if (entry.kind === "note") {
      return el("li", { className: "entry note", dataset: { id: String(entry.id) } },
        el("div", { className: "note-head" },
          el("span", { className: "note-label", text: "Internal note" }),
          el("span", { text: " · " + entry.author_label + " · " }), D.timeEl(entry.at)),
        el("div", { className: "note-body", text: entry.text }));
    }
    var who = entry.author === "customer" ? "customer"
      : entry.author.indexOf("agent:") === 0 ? "agent" : "bot";  /* bot and system texts */
    var sameAsNext = next && next.kind === "message" && next.author === entry.author &&
      (D.parseTime(next.at) - D.parseTime(entry.at)) < 180000;
    var showMeta = who === "agent" || entry.notification || !sameAsNext ||
      (entry.direction === "out" && entry.status !== "delivered");
    var meta = null;
    var label = who === "customer" && S.customer && S.customer.name ? S.customer.name : entry.author_label;
    if (showMeta) {
      meta = el("div", { className: "meta" },
        el("span", { className: "who", text: label }),
        D.timeEl(entry.at),
        entry.direction === "out" || entry.status === "held" || entry.status === "ignored"
          ? statusPill(entry.status) : null,
        entry.segments ? el("span", { className: "segs", text: entry.segments + " SMS" }) : null);
    }
    return el("li", {
      className: "entry msg " + entry.direction + " from-" + who + (sameAsNext ? " grouped" : "") +
        (entry.notification ? " notification" : ""),
      dataset: { id: String(entry.id), status: entry.status || "", author: entry.author }
    }, entry.text ? el("div", { className: "bubble" }, D.linkify(entry.text)) : null,
      mediaLinks(entry.media), meta);
  }

  /* MMS pictures: links to the provider's media URLs (http(s) only), opened in a new tab. */
  function mediaLinks(urls) {
    if (!urls || !urls.length) return null;
    return el("div", { className: "media-links" }, urls.map(function (url, i) {
      return D.link(url, "📷 Picture" + (urls.length > 1 ? " " + (i + 1) : ""), "media-link");
    }));
  }

  function renderTranscript(entries, changed) {
    var list = $("transcript");
    var nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 120;
    D.clear(list);
    entries.forEach(function (entry, i) { list.appendChild(entryNode(entry, entries[i + 1])); });
    if (!entries.length) list.appendChild(el("li", { className: "entry activity", text: "No texts yet." }));
    if (changed || nearBottom) list.scrollTop = list.scrollHeight;
  }

  function dl(rows) {
    var node = el("dl", { className: "facts" });
    rows.forEach(function (row) {
      if (row[1] === null || row[1] === undefined || row[1] === "") return;
      node.appendChild(el("dt", { text: row[0] }));
      node.appendChild(el("dd", { text: row[1] }));
    });
    return node;
  }

  function section(title, body, count) {
    return el("section", { className: "panel-section" },
      el("h3", { text: title }, count !== undefined ? el("span", { className: "count", text: String(count) }) : null),
      body);
  }

  function renderCustomer(customer, c) {
    var box = $("customer");
    D.clear(box);
    var head = el("div", { className: "panel-head" },
      el("span", { className: "avatar big", text: D.initials(customer.name || "#") }),
      el("h2", { text: customer.name || "Unknown customer" }),
      el("div", { className: "phone", text: customer.phone }),
      customer.opted_out
        ? el("div", { className: "badge danger", attrs: { id: "optout-badge" }, text: "Opted out of texts" })
        : el("div", { className: "badge ok", text: "Subscribed to texts" }));
    box.appendChild(head);
    box.appendChild(section("Contact", dl([
      ["Email", customer.email],
      ["Customer since", customer.customer_since ? D.day(customer.customer_since) : (customer.known ? "" : "Not on file")],
      ["Opted out", customer.opted_out ? D.clock(customer.opted_out_at) || "yes" : ""]
    ])));
    var h = c.handoff;
    if (h) {
      box.appendChild(section(c.owner === "bot" ? "Last handoff" : "Handoff", dl([
        ["Reason", reasonLabel(h.reason)],
        ["Team", h.team],
        ["Detail", h.detail],
        ["Requested", D.clock(h.created_at)],
        [h.holder_label || "Claimed by", h.holder_label ? h.holder : h.agent_name],
        ["First reply", h.first_reply_at ? D.clock(h.first_reply_at) : ""],
        ["Status", h.status]
      ])));
    }
    var orders = el("ul", { className: "cards" });
    customer.orders.forEach(function (o) {
      var shipping = [o.carrier, o.tracking_number].filter(Boolean).join(" ");
      orders.appendChild(el("li", { className: "card" },
        el("div", { className: "card-top" },
          el("strong", { text: o.number }),
          el("span", { className: "pill order-" + o.status, text: o.status })),
        o.summary ? el("div", { className: "muted", text: o.summary }) : null,
        shipping ? el("div", { className: "muted small", text: shipping }) : null,
        o.eta ? el("div", { className: "muted small", text: "ETA " + D.day(o.eta) }) : null));
    });
    if (!customer.orders.length) orders.appendChild(el("li", { className: "muted", text: "No orders." }));
    box.appendChild(section("Orders", orders, customer.orders.length));
    var bookings = el("ul", { className: "cards" });
    customer.bookings.forEach(function (b) {
      bookings.appendChild(el("li", { className: "card" },
        el("div", { className: "card-top" },
          el("strong", { text: b.ref }),
          el("span", { className: "pill booking booking-" + b.status, text: b.status })),
        el("div", { className: "muted", text: D.day(b.check_in) + " → " + D.day(b.check_out) + " · " + b.guests + " guests" }),
        b.room_type ? el("div", { className: "muted small", text: b.room_type }) : null,
        b.notes ? el("div", { className: "muted small", text: b.notes }) : null));
    });
    if (!customer.bookings.length) bookings.appendChild(el("li", { className: "muted", text: "No room requests on file." }));
    box.appendChild(section("Room requests", bookings, customer.bookings.length));
    if (c.history.length > 1) {
      var past = el("ul", { className: "history" });
      c.history.slice(0, 8).forEach(function (item) {
        past.appendChild(el("li", { text: D.clock(item.created_at) + " · " + reasonLabel(item.reason) + " · " + item.team + " · " + item.status }));
      });
      box.appendChild(section("Handoff history", past, c.history.length));
    }
  }

  /* -------------------------------------------------------------- composer */

  function setMode(mode) {
    S.mode = mode;
    sendStatus("");
    $("mode-reply").classList.toggle("active", mode === "reply");
    $("mode-note").classList.toggle("active", mode === "note");
    $("composer").classList.toggle("note-mode", mode === "note");
    renderComposer();
  }

  function renderComposer() {
    var text = $("text");
    var send = $("send");
    var canned = $("canned");
    var opted = S.customer && S.customer.opted_out;
    var allowed;
    if (S.mode === "note") {
      allowed = !!S.perms.note;
      text.placeholder = allowed ? "Internal note: only agents see this." : "You can't add notes here.";
      send.textContent = "Add note";
      canned.hidden = true;
    } else {
      allowed = !!S.perms.reply;
      if (allowed) {
        text.placeholder = opted
          ? "Opted out: a reply will be recorded but NOT sent."
          : "Type an SMS reply… (Ctrl+Enter to send)";
      } else {
        text.placeholder = S.perms.claim ? "Claim this chat to reply."
          : "Only the agent who owns this chat can reply.";
      }
      send.textContent = "Send SMS";
      canned.hidden = !allowed;
    }
    text.disabled = !allowed;
    send.disabled = !allowed;
    updateCounter();
  }

  function updateCounter() {
    var counter = $("counter");
    if (S.mode === "note") {
      counter.textContent = "Internal note · never sent to the customer";
      counter.dataset.segments = "";
      return;
    }
    var info = window.SmsSegments.smsInfo($("text").value);
    var capacity = info.segments <= 1 ? info.perSegment : info.segments * info.perSegment;
    counter.textContent = info.segments + (info.segments === 1 ? " SMS" : " SMS segments") +
      " · " + info.encoding + " · " + info.length + "/" + capacity;
    counter.dataset.segments = String(info.segments);
    counter.dataset.encoding = info.encoding;
    counter.dataset.length = String(info.length);
    counter.classList.toggle("warn", info.segments > 2 || info.encoding === "UCS-2");
  }

  /* The canned replies this agent may use (their teams' and everyone's); edited by supervisors. */
  function loadCanned() {
    return api("GET", "/api/canned").then(function (r) {
      if (r.ok) { S.canned = r.data.items; renderCanned(); }
    }, function () {});
  }

  /* The server fills {first_name} (dropped when unknown) and {agent} for this chat. */
  function insertCanned(id) {
    var conversationId = S.openId;
    return api("GET", "/api/conversations/" + conversationId + "/canned/" + id).then(function (r) {
      if (conversationId !== S.openId) return;
      if (!r.ok) { sendStatus(r.data.error || "Could not insert that reply.", "error"); return; }
      var box = $("text");
      box.value = box.value ? box.value.replace(/\s*$/, " ") + r.data.text : r.data.text;
      box.focus();
      updateCounter();
    }, function () {});
  }

  function renderCanned() {
    var select = $("canned");
    while (select.options.length > 1) select.remove(1);
    S.canned.forEach(function (c) {
      select.appendChild(el("option", { text: c.title + (c.team ? " (" + c.team + ")" : ""), attrs: { value: String(c.id) } }));
    });
  }

  function sendStatus(text, kind) {
    var box = $("send-status");
    box.textContent = text;
    box.className = "send-status " + (kind || "");
  }

  function submit(event) {
    event.preventDefault();
    var id = S.openId;
    var text = $("text").value;
    if (!id || !text.trim()) return;
    var note = S.mode === "note";
    $("send").disabled = true;
    api("POST", "/api/conversations/" + id + (note ? "/notes" : "/reply"), { text: text }).then(function (r) {
      if (r.ok) {
        $("text").value = "";
        if (note) sendStatus("Note added.", "ok");
        else if (r.data.suppressed) sendStatus(r.data.notice || "Not sent: the customer opted out (suppressed).", "error");
        else sendStatus("Queued for sending (" + r.data.segments + " SMS).", "ok");
      } else {
        sendStatus(r.data.error || "Could not send.", "error");
      }
      renderComposer();
      loadConversation();
      refreshLists();
    }, function () { renderComposer(); });
  }

  /* --------------------------------------------------------------- actions */

  function claim() {
    var id = S.openId;
    $("claim").disabled = true;
    api("POST", "/api/conversations/" + id + "/claim").then(function (r) {
      $("claim").disabled = false;
      if (r.ok) {
        banner("");
        flash("You claimed this chat.", "ok");
      } else if (r.status === 409 && r.data.error === "already taken") {
        S.notice = "Already taken: " + (r.data.owner || "another agent") + " claimed this chat first.";
        banner(S.notice, "error");
        flash(S.notice, "error");
      } else {
        banner(r.data.error || "Could not claim.", "error");
      }
      loadConversation();
      refreshLists();
    }, function () { $("claim").disabled = false; });
  }

  function resolve() {
    var id = S.openId;
    api("POST", "/api/conversations/" + id + "/resolve").then(function (r) {
      if (r.ok) flash("Resolved. The bot answers this customer again.", "ok");
      else banner(r.data.error || "Could not resolve.", "error");
      loadConversation();
      refreshLists();
    });
  }

  function openTransfer() {
    api("GET", "/api/directory").then(function (r) {
      if (!r.ok) return;
      var select = $("transfer-target");
      D.clear(select);
      var teams = el("optgroup", { attrs: { label: "Team queues" } });
      r.data.teams.forEach(function (team) {
        teams.appendChild(el("option", { text: team + " queue", attrs: { value: "team:" + team } }));
      });
      var agents = el("optgroup", { attrs: { label: "Agents" } });
      r.data.agents.forEach(function (a) {
        if (a.id === S.me.agent.id) return;
        agents.appendChild(el("option", {
          text: a.name + " · " + a.status + " · " + a.load + "/" + a.capacity,
          attrs: { value: "agent:" + a.id, disabled: a.status === "offline" }
        }));
      });
      select.appendChild(teams);
      select.appendChild(agents);
      $("transfer-form").hidden = false;
      $("transfer-note").focus();
    });
  }

  function submitTransfer(event) {
    event.preventDefault();
    var target = $("transfer-target").value;
    var body = { note: $("transfer-note").value };
    if (target.indexOf("team:") === 0) body.team = target.slice(5);
    else body.agent_id = Number(target.slice(6));
    api("POST", "/api/conversations/" + S.openId + "/transfer", body).then(function (r) {
      if (r.ok) {
        $("transfer-form").hidden = true;
        $("transfer-note").value = "";
        /* the outcome, also if the chat is no longer ours to see (not "no longer available") */
        S.notice = "Transferred to " + (r.data.to || "another agent");
        S.noticeKind = "ok";
        flash(S.notice, "ok");
      } else {
        banner(r.data.error || "Could not transfer.", "error");
      }
      loadConversation();
      refreshLists();
    });
  }

  /* ------------------------------------------------------------------ live */

  var refreshListsSoon = D.debounce(refreshLists, 150);
  var loadConversationSoon = D.debounce(loadConversation, 150);

  function onDesk(data) {
    var topics = data.topics || ["queue", "my_chats", "conversation"];
    if (topics.indexOf("queue") >= 0 || topics.indexOf("my_chats") >= 0) refreshListsSoon();
    if (data.conversation_id && data.conversation_id === S.openId) loadConversationSoon();
    if (data.kind === "agent_status" && data.agent_id === S.me.agent.id) D.refreshStatus();
  }

  function onConversation(data) {
    if (data.conversation_id === S.openId) loadConversationSoon();
  }

  function onHello() {
    loadCanned();
    refreshLists();
    loadConversation();
    D.refreshStatus();
  }

  function init() {
    D.loadMe().then(function (me) {
      S.me = me;
      D.initHeader(me, function (result) {
        if (result.requeued) flash(result.requeued + " chat(s) went back to the queue.", "warn");
        refreshLists();
        loadConversation();
      });
      $("claim").addEventListener("click", claim);
      $("back").addEventListener("click", function () {
        if (history.state && history.state.pushed) { history.back(); return; }  /* popstate */
        showLists();
        history.replaceState(null, "", "#");
      });
      window.addEventListener("popstate", function () {
        var chat = /^#c=(\d+)$/.exec(location.hash);
        if (chat) openConversation(Number(chat[1]));
        else showLists();
      });
      $("customer-open").addEventListener("click", function () { setDrawer(true); });
      $("customer-close").addEventListener("click", function () { setDrawer(false); $("customer-open").focus(); });
      $("drawer-backdrop").addEventListener("click", function () { setDrawer(false); });
      document.addEventListener("keydown", function (e) {
        if (e.key === "Escape" && document.body.classList.contains("drawer-open")) setDrawer(false);
      });
      $("resolve").addEventListener("click", resolve);
      $("transfer-open").addEventListener("click", openTransfer);
      $("transfer-cancel").addEventListener("click", function () { $("transfer-form").hidden = true; });
      $("transfer-form").addEventListener("submit", submitTransfer);
      $("composer").addEventListener("submit", submit);
      $("mode-reply").addEventListener("click", function () { setMode("reply"); });
      $("mode-note").addEventListener("click", function () { setMode("note"); });
      $("text").addEventListener("input", updateCounter);
      $("text").addEventListener("keydown", function (e) {
        if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) submit(e);
      });
      $("canned").addEventListener("change", function (e) {
        var chosen = S.canned.filter(function (c) { return String(c.id) === e.target.value; })[0];
        e.target.value = "";
        if (chosen) insertCanned(chosen.id);
      });
      loadCanned();
      updateCounter();
      refreshLists();
      var match = /^#c=(\d+)$/.exec(location.hash);
      if (match) openConversation(Number(match[1]));
      D.live({ desk: onDesk, conversation: onConversation, hello: onHello }, $("live"));
      setInterval(tick, 1000);
      setInterval(refreshLists, 30000);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
