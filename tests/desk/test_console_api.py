"""The console's JSON API against a running server and a real database."""

from __future__ import annotations

import datetime as dt
from typing import Callable

import pytest
from sqlalchemy import select

from bot.desk.agents import get_agent
from bot.sms import inbound
from bot.store.customers import set_opted_out
from bot.store.db import session_scope
from bot.store.models import CannedReply, Conversation, HandoffRequest, Note, OutboxMessage
from bot.store.seed import ALEX
from tests.desk.client import DeskClient
from tests.desk.conftest import People
from tests.desk.helpers import customer_texts, owner_of, queue_chat
from tests.desk.server import DeskServer

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_queue_shows_the_agents_teams_longest_waiting_first(
    desk: DeskServer, people: People, signed_in: Callable[[str], DeskClient]
) -> None:
    url = desk.database_url
    first = queue_chat(url, "+15550003001", "where is my parcel", "order_issue", "orders")
    second = queue_chat(url, "+15550003002", "AGENT", "asked", "general")
    olga = signed_in("olga")  # orders team only
    items = olga.get("/api/queue").json()["items"]
    assert [i["conversation_id"] for i in items] == [first.conversation_id]
    assert items[0]["reason"] == "order_issue" and items[0]["preview"] == "where is my parcel"
    assert items[0]["waiting_seconds"] >= 0 and items[0]["queued_at"].endswith("Z")
    sue = signed_in("sue")  # supervisors see every team
    ids = [i["conversation_id"] for i in sue.get("/api/queue").json()["items"]]
    assert ids == [first.conversation_id, second.conversation_id]
    # olga may not claim another team's chat, nor read it
    assert olga.post(f"/api/conversations/{second.conversation_id}/claim").status == 403
    assert olga.get(f"/api/conversations/{second.conversation_id}").status == 403
    assert olga.get("/api/conversations/999999").status == 404


def test_claim_then_already_taken(
    desk: DeskServer, people: People, signed_in: Callable[[str], DeskClient]
) -> None:
    chat = queue_chat(desk.database_url, "+15550003003")
    alice, bob = signed_in("alice"), signed_in("bob")
    path = f"/api/conversations/{chat.conversation_id}/claim"
    assert alice.post(path).json() == {"ok": True, "conversation_id": chat.conversation_id}
    taken = bob.post(path)
    assert taken.status == 409
    assert taken.json() == {"error": "already taken", "owner": "Alice Moreno"}
    assert owner_of(desk.database_url, chat.conversation_id).agent_id == people.alice.id
    assert alice.get("/api/queue").json()["items"] == []
    mine = alice.get("/api/my-chats").json()["items"]
    assert [c["conversation_id"] for c in mine] == [chat.conversation_id]
    # bob cannot read or write someone else's chat
    assert bob.get(f"/api/conversations/{chat.conversation_id}").status == 403
    reply = bob.post(f"/api/conversations/{chat.conversation_id}/reply", {"text": "hi"})
    assert reply.status == 409


def test_transcript_has_bot_turns_held_texts_handoff_and_customer_panel(
    desk: DeskServer, people: People, signed_in: Callable[[str], DeskClient]
) -> None:
    url = desk.database_url
    customer_texts(url, ALEX, "hi")
    from bot.sms import outbox

    with session_scope(url) as session:
        outbox.enqueue(session, ALEX, "Hi! I can track orders.", kind="reply")
    chat = queue_chat(url, ALEX, "my robe is the wrong size", "order_issue", "orders", "size")
    customer_texts(url, ALEX, "hello? anyone?", status="held")
    alice = signed_in("alice")
    assert alice.post(f"/api/conversations/{chat.conversation_id}/claim").status == 200
    data = alice.get(f"/api/conversations/{chat.conversation_id}").json()
    conversation = data["conversation"]
    messages = [e for e in conversation["entries"] if e["kind"] == "message"]
    assert [(m["author"], m["text"]) for m in messages] == [
        ("customer", "hi"),
        ("bot", "Hi! I can track orders."),
        ("customer", "my robe is the wrong size"),
        ("customer", "hello? anyone?"),
    ]
    assert messages[1]["status"] == "queued" and messages[1]["segments"] == 1
    assert messages[3]["status"] == "held"
    activities = [e["text"] for e in conversation["entries"] if e["kind"] == "activity"]
    assert activities == ["Handed to the orders queue", "Claimed by Alice Moreno"]
    handoff = conversation["handoff"]
    assert handoff["automatic"] is False  # claimed by hand
    assert (handoff["reason"], handoff["team"], handoff["detail"]) == (
        "order_issue",
        "orders",
        "size",
    )
    assert conversation["owner"] == "agent" and conversation["agent_name"] == "Alice Moreno"
    customer = data["customer"]
    assert customer["name"] == "Alex Rivera" and customer["opted_out"] is False
    assert [o["number"] for o in customer["orders"]] == ["A1002", "A1001"]
    assert customer["orders"][1]["status"] == "shipped"
    assert data["permissions"] == {
        "view": True,
        "claim": False,
        "reply": True,
        "note": True,
        "transfer": True,
        "resolve": True,
    }


def test_reply_goes_to_the_outbox_and_sets_first_reply(
    desk: DeskServer, people: People, signed_in: Callable[[str], DeskClient]
) -> None:
    url = desk.database_url
    chat = queue_chat(url, "+15550003004")
    alice = signed_in("alice")
    base = f"/api/conversations/{chat.conversation_id}"
    assert alice.post(base + "/reply", {"text": "too early"}).status == 409  # not claimed
    alice.post(base + "/claim")
    assert alice.post(base + "/reply", {"text": "   "}).status == 400
    assert alice.post(base + "/reply", {"text": "x" * 1601}).status == 400
    sent = alice.post(base + "/reply", {"text": "Hi, I'm Alice. Checking now € {ok}"})
    assert sent.status == 200
    body = sent.json()
    assert body["status"] == "queued" and body["suppressed"] is False
    assert body["encoding"] == "GSM-7" and body["segments"] == 1
    with session_scope(url) as session:
        row = session.execute(select(OutboxMessage)).scalar_one()
        handoff = session.get(HandoffRequest, chat.handoff_id)
        assert (row.kind, row.phone, row.status) == ("agent", "+15550003004", "queued")
        assert handoff.first_reply_at is not None
        first = handoff.first_reply_at
    alice.post(base + "/reply", {"text": "second"})
    with session_scope(url) as session:
        assert session.get(HandoffRequest, chat.handoff_id).first_reply_at == first
    entries = alice.get(base).json()["conversation"]["entries"]
    mine = [e for e in entries if e["author"] == f"agent:{people.alice.id}"]
    assert [(e["text"], e["author_label"], e["status"]) for e in mine] == [
        ("Hi, I'm Alice. Checking now € {ok}", "Alice Moreno", "queued"),
        ("second", "Alice Moreno", "queued"),
    ]


def test_reply_to_an_opted_out_customer_is_suppressed(
    desk: DeskServer, people: People, signed_in: Callable[[str], DeskClient]
) -> None:
    url = desk.database_url
    chat = queue_chat(url, "+15550003005")
    with session_scope(url) as session:
        set_opted_out(session, "+15550003005", True)
    alice = signed_in("alice")
    base = f"/api/conversations/{chat.conversation_id}"
    alice.post(base + "/claim")
    data = alice.get(base).json()
    assert data["customer"]["opted_out"] is True
    sent = alice.post(base + "/reply", {"text": "Are you there?"}).json()
    assert sent["status"] == "suppressed" and sent["suppressed"] is True
    assert "Not sent" in sent["notice"] and "opted out" in sent["notice"]
    entry = alice.get(base).json()["conversation"]["entries"][-1]
    assert (entry["text"], entry["status"]) == ("Are you there?", "suppressed")


def test_notes_transfer_and_resolve(
    desk: DeskServer, people: People, signed_in: Callable[[str], DeskClient]
) -> None:
    url = desk.database_url
    chat = queue_chat(url, "+15550003006")
    cid = chat.conversation_id
    alice, bob = signed_in("alice"), signed_in("bob")
    base = f"/api/conversations/{cid}"
    alice.post(base + "/claim")
    assert alice.post(base + "/notes", {"text": "VIP <b>guest</b>"}).status == 200
    # transfer to the orders team's queue, with a note
    assert alice.post(base + "/transfer", {"team": "nowhere"}).status == 400
    assert alice.post(base + "/transfer", {"team": "orders", "agent_id": 1}).status == 400
    moved = alice.post(base + "/transfer", {"team": "orders", "note": "parcel question"})
    assert moved.status == 200 and moved.json() == {"ok": True, "to": "orders"}
    current = owner_of(url, cid)
    assert (current.owner, current.team, current.agent_id) == ("queue", "orders", None)
    handoff = alice.get(base).json()["conversation"]["handoff"]
    assert (handoff["holder_label"], handoff["holder"]) == ("Transferred to", "orders queue")
    assert alice.post(base + "/transfer", {"team": "general"}).status == 403  # not hers now
    # bob claims it, then transfers it straight to alice
    assert bob.post(base + "/claim").status == 200
    assert bob.post(base + "/transfer", {"agent_id": people.bob.id}).status == 400
    assert bob.post(base + "/transfer", {"agent_id": 999}).status == 400
    offline = bob.post(base + "/transfer", {"agent_id": people.alice.id})  # never signed on
    assert offline.status == 400 and "offline" in offline.json()["error"]
    alice.post("/api/heartbeat")
    assert (
        bob.post(base + "/transfer", {"agent_id": people.alice.id, "note": "yours"}).status == 200
    )
    assert owner_of(url, cid).agent_id == people.alice.id
    detail = alice.get(base).json()["conversation"]
    assert [e["text"] for e in detail["entries"] if e["kind"] == "activity"] == [
        "Handed to the general queue",
        "Claimed by Alice Moreno",
        "Alice Moreno transferred to orders",
        "Claimed by Bob Chen",
        "Bob Chen transferred to Alice Moreno",
    ]
    handoff = detail["handoff"]
    assert (handoff["holder_label"], handoff["holder"]) == ("Transferred to", "Alice Moreno")
    # the customer was told each time, by the desk (not in an agent's name), in one segment
    told = [e for e in detail["entries"] if e.get("sms_kind") == "transfer"]
    assert [(e["text"], e["author_label"], e["segments"]) for e in told] == [
        ("I'm passing you to our orders team; someone will text you shortly.", "System", 1),
        ("I'm passing you to Alice; they'll text you shortly.", "System", 1),
    ]
    with session_scope(url) as session:
        notes = session.execute(select(Note.text).order_by(Note.id)).scalars().all()
    assert notes == ["VIP <b>guest</b>", "Transfer: parcel question", "Transfer: yours"]
    entries = alice.get(base).json()["conversation"]["entries"]
    assert [e["text"] for e in entries if e["kind"] == "note"] == notes
    # resolve hands the conversation back to the bot
    assert bob.post(base + "/resolve").status == 403
    resolved = alice.post(base + "/resolve").json()
    # and the customer is asked for a rating (scheduled inside quiet hours)
    assert resolved == {"ok": True, "survey": resolved["survey"]}
    assert resolved["survey"] in ("queued", "scheduled")
    with session_scope(url) as session:
        conversation = session.get(Conversation, cid)
        handoff = session.get(HandoffRequest, chat.handoff_id)
        assert (conversation.owner, conversation.handback_pending) == ("bot", True)
        assert handoff.status == "resolved" and handoff.resolved_at is not None
    assert alice.post(base + "/resolve").status in (403, 409)
    # alice still sees the (resolved) conversation she handled; bob does not
    assert alice.get(base).status == 200
    assert bob.get(base).status == 403


def test_unread_counts_and_mark_read(
    desk: DeskServer, people: People, signed_in: Callable[[str], DeskClient]
) -> None:
    url = desk.database_url
    chat = queue_chat(url, "+15550003007", "first")
    alice = signed_in("alice")
    base = f"/api/conversations/{chat.conversation_id}"
    alice.post(base + "/claim")
    assert alice.get("/api/my-chats").json()["items"][0]["unread"] == 1
    customer_texts(url, "+15550003007", "second", status="held")
    customer_texts(url, "+15550003007", "third", status="held")
    chat_item = alice.get("/api/my-chats").json()["items"][0]
    assert chat_item["unread"] == 3 and chat_item["preview"] == "third"
    last = alice.get(base).json()["conversation"]["last_message_id"]
    assert alice.post(base + "/read", {"last_message_id": last - 1}).json()["last_read"] == last - 1
    assert alice.get("/api/my-chats").json()["items"][0]["unread"] == 1
    assert alice.post(base + "/read", {"last_message_id": "x"}).status == 400
    alice.post(base + "/read")
    assert alice.get("/api/my-chats").json()["items"][0]["unread"] == 0
    customer_texts(url, "+15550003007", "fourth", status="held")
    assert alice.get("/api/my-chats").json()["items"][0]["unread"] == 1


def test_going_offline_requeues_my_chats(
    desk: DeskServer, people: People, signed_in: Callable[[str], DeskClient]
) -> None:
    url = desk.database_url
    chats = [queue_chat(url, f"+1555000400{i}") for i in range(2)]
    alice = signed_in("alice")
    assert alice.post("/api/heartbeat").status == 200
    for chat in chats:
        alice.post(f"/api/conversations/{chat.conversation_id}/claim")
    assert alice.post("/api/status", {"status": "busy"}).status == 400
    result = alice.post("/api/status", {"status": "offline"}).json()
    assert result == {"ok": True, "status": "offline", "requeued": 2}
    assert all(owner_of(url, c.conversation_id).owner == "queue" for c in chats)
    with session_scope(url) as session:
        assert get_agent(session, people.alice.id).status == "offline"
    assert alice.post("/api/status", {"status": "online"}).json()["requeued"] == 0


def test_directory_and_canned_replies(
    desk: DeskServer, people: People, signed_in: Callable[[str], DeskClient]
) -> None:
    olga = signed_in("olga")
    directory = olga.get("/api/directory").json()
    assert {"general", "orders", "bookings"} <= set(directory["teams"])
    assert [a["username"] for a in directory["agents"]] == ["alice", "bob", "olga", "sue"]
    assert "password_hash" not in str(directory)
    canned = olga.get("/api/canned").json()["items"]
    assert canned and {c["team"] for c in canned} <= {None, "orders"}  # no bookings ones
    with session_scope(desk.database_url) as session:
        total = len(session.execute(select(CannedReply)).scalars().all())
    assert total > len(canned)
    assert len(signed_in("sue").get("/api/canned").json()["items"]) == total


def test_bad_bodies_are_400_json(
    desk: DeskServer, people: People, signed_in: Callable[[str], DeskClient]
) -> None:
    alice = signed_in("alice")
    response = alice.request(
        "POST",
        "/api/status",
        b"{not json",
        {"Content-Type": "application/json", "X-CSRF-Token": alice.csrf},
    )
    assert response.status == 400 and response.content_type == "application/json"
    assert alice.post("/api/status", {"status": 3}).status == 400
    missing = alice.get("/api/nothing-here")
    assert missing.status in (401, 404) and missing.content_type == "application/json"


def test_transcript_lists_only_http_picture_links(
    desk: DeskServer, people: People, signed_in: Callable[[str], DeskClient]
) -> None:
    phone = "+15550003099"
    chat = queue_chat(desk.database_url, phone)
    pictures = [
        "https://media.example.com/Account/MA1/Message/u1/Media/m1",
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "http://media.example.com/m2.png",
    ]
    with session_scope(desk.database_url) as session:
        message_id = inbound.record_inbound(
            session, phone, "", "uuid-mms-links", kind="mms", media=pictures
        )
        inbound.finish_inbound(session, message_id, inbound.PROCESSED)
        empty_id = inbound.record_inbound(
            session, phone, "", "uuid-mms-bad", kind="mms", media=["javascript:alert(2)"]
        )
        inbound.finish_inbound(session, empty_id, inbound.PROCESSED)
    alice = signed_in("alice")
    assert alice.post(f"/api/conversations/{chat.conversation_id}/claim").status == 200
    entries = alice.get(f"/api/conversations/{chat.conversation_id}").json()["conversation"][
        "entries"
    ]
    by_id = {e["id"]: e for e in entries if e["kind"] == "message"}
    assert by_id[message_id]["media"] == [pictures[0], pictures[3]]
    assert by_id[message_id]["text"] == ""
    # a picture whose only URL is unsafe still shows that a picture came
    assert (by_id[empty_id]["media"], by_id[empty_id]["text"]) == ([], "[picture]")


def held_since(url: str, conversation_id: int, minutes: float) -> None:
    """Make the current agent's hold of a chat `minutes` old (as if claimed back then)."""
    from bot.store.models import DeskEvent, utcnow

    with session_scope(url) as session:
        for event in session.query(DeskEvent).filter_by(conversation_id=conversation_id):
            event.created_at = utcnow() - dt.timedelta(minutes=minutes)


def test_unanswered_assigned_chats_show_for_supervisors_who_reassign_them(
    desk: DeskServer, people: People, signed_in: Callable[[str], DeskClient]
) -> None:
    url = desk.database_url
    silent = queue_chat(url, "+15550003101", "anyone there?")
    answered = queue_chat(url, "+15550003102", "hello?")
    recent = queue_chat(url, "+15550003103", "hi")
    alice, sue, olga = signed_in("alice"), signed_in("sue"), signed_in("olga")
    for chat in (silent, answered, recent):
        assert alice.post(f"/api/conversations/{chat.conversation_id}/claim").status == 200
    reply = alice.post(f"/api/conversations/{answered.conversation_id}/reply", {"text": "Hi!"})
    assert reply.status == 200
    held_since(url, silent.conversation_id, 10)
    held_since(url, answered.conversation_id, 10)  # its reply came after: answered
    unanswered = sue.get("/api/supervisor/overview").json()["overview"]["unanswered"]
    assert [(u["conversation_id"], u["agent_name"]) for u in unanswered] == [
        (silent.conversation_id, "Alice Moreno")
    ]
    assert unanswered[0]["silent_seconds"] >= 599
    path = f"/api/supervisor/conversations/{silent.conversation_id}/reassign"
    move = {"from_agent_id": people.alice.id, "to_agent_id": people.bob.id}
    assert olga.post(path, move).status == 403  # supervisors only
    assert sue.post(path, {"from_agent_id": people.alice.id, "to_agent_id": "bob"}).status == 400
    assert sue.post(path, {**move, "to_agent_id": 999999}).status == 400
    assert sue.post(path, move).json() == {
        "ok": True,
        "conversation_id": silent.conversation_id,
        "agent_id": people.bob.id,
    }
    assert owner_of(url, silent.conversation_id).agent_id == people.bob.id
    stale = sue.post(path, move)  # alice no longer holds it
    assert stale.status == 409 and stale.json()["error"] == "the chat is no longer with that agent"
    assert sue.get("/api/supervisor/overview").json()["overview"]["unanswered"] == []
    bob = signed_in("bob")
    conversation = bob.get(f"/api/conversations/{silent.conversation_id}").json()["conversation"]
    activities = [e["text"] for e in conversation["entries"] if e["kind"] == "activity"]
    assert activities[-1] == "Reassigned from Alice Moreno to Bob Chen by Sue Park (supervisor)"
    assert conversation["handoff"]["agent_name"] == "Bob Chen"
    holder = (conversation["handoff"]["holder_label"], conversation["handoff"]["holder"])
    assert holder == ("Reassigned to", "Bob Chen")
    assert [c["conversation_id"] for c in bob.get("/api/my-chats").json()["items"]] == [
        silent.conversation_id
    ]
