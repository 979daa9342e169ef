"""Transfers and waits as the customer sees them, through the real SMS path (Plivo
stand-in -> receiver -> worker -> outbox -> stand-in) and the console's HTTP API: one text
on a transfer, no BOT/WAIT offer right after an agent wrote, a "we've got your message"
while queued (at most one per window), no wait quoted when an agent is free at once, and
a reply that was never sent (opted out) is no first reply."""

from __future__ import annotations

import time
from typing import Callable

import pytest

from bot.desk.agents import create_agent
from bot.desk.notices import ASSIGNING_NOW
from bot.sms.segments import sms_info
from bot.store.customers import set_opted_out
from bot.store.db import session_scope
from bot.store.models import HandoffRequest
from tests.desk.client import DeskClient
from tests.desk.conftest import PASSWORD, People
from tests.desk.customer_side import OFFER, PASSING, offer_round, texts_to, wait_for
from tests.desk.helpers import (
    conversation_id_for,
    maintenance_beating,
    outbox_sends,
    owner_of,
    queue_chat,
)
from tests.desk.server import DeskServer
from tests.desk.stack import Stack, fresh_phone, wait_held

pytestmark = pytest.mark.slow


def handed_off(stack: Stack) -> str:
    """A new customer who asked the bot for a person (through the stand-in); the phone."""
    phone = fresh_phone()
    stack.sms.ask(phone, "AGENT")
    assert owner_of(stack.url, conversation_id_for(stack.url, phone)).owner == "queue"
    return phone


def test_a_transfer_texts_the_customer_once(stack: Stack) -> None:
    phone = handed_off(stack)
    cid = conversation_id_for(stack.url, phone)
    alice = DeskClient(stack.desk.url).login("alice", PASSWORD)
    base = f"/api/conversations/{cid}"
    assert alice.post(base + "/claim").status == 200
    assert alice.post(base + "/reply", {"text": "Hi, Alice here."}).status == 200
    wait_for(stack, phone, "Alice here")
    moved = alice.post(base + "/transfer", {"team": "bookings", "note": "room question"})
    assert moved.json() == {"ok": True, "to": "bookings"}
    assert alice.post(base + "/transfer", {"team": "bookings"}).status in (403, 409)  # once
    texts = wait_for(stack, phone, PASSING)
    time.sleep(1.5)  # anything else would have arrived by now
    told = [t for t in texts_to(stack, phone) if "bookings" in t]
    assert told == ["I'm passing you to our bookings team; someone will text you shortly."]
    assert sms_info(told[0]).segments == 1
    assert not any(OFFER in t for t in texts)


def test_no_wait_offer_soon_after_an_agent_wrote(stack: Stack) -> None:
    quiet = 6.0
    helped, waiting = handed_off(stack), handed_off(stack)
    cid = conversation_id_for(stack.url, helped)
    alice = DeskClient(stack.desk.url).login("alice", PASSWORD)
    base = f"/api/conversations/{cid}"
    assert alice.post(base + "/claim").status == 200
    assert alice.post(base + "/reply", {"text": "Let me get bookings."}).status == 200
    assert alice.post(base + "/transfer", {"team": "bookings"}).status == 200
    transferred = time.monotonic()
    # within the quiet time after the agent's text: only the one nobody wrote to is offered
    offer_round(stack, quiet)
    assert time.monotonic() - transferred < quiet
    assert OFFER in wait_for(stack, waiting, OFFER)[-1]
    wait_for(stack, helped, PASSING)
    time.sleep(1.0)
    assert not any(OFFER in t for t in texts_to(stack, helped))
    # once the quiet time is over, the helped texter (still waiting) is offered too
    time.sleep(max(0.0, quiet + 0.5 - (time.monotonic() - transferred)))
    offer_round(stack, quiet)
    wait_for(stack, helped, OFFER)
    assert sum(OFFER in t for t in texts_to(stack, waiting)) == 1  # once per handoff


def test_a_queued_texter_is_reassured_once_per_window(stack: Stack) -> None:
    phone = handed_off(stack)
    before = len(texts_to(stack, phone))
    for text in ("hello?", "is anyone there", "I really need help"):
        stack.sms.text(phone, text)
        wait_held(stack, phone, text)
    texts = wait_for(stack, phone, "got your message")
    time.sleep(1.5)
    new = texts_to(stack, phone)[before:]
    assert len(new) == 1, new
    assert new[0].startswith("Thanks, we've got your message. You're #")
    assert "in line" in new[0] and sms_info(new[0]).segments == 1
    assert texts == texts_to(stack, phone)


def test_no_wait_is_quoted_when_an_agent_takes_the_chat_at_once(stack: Stack) -> None:
    with session_scope(stack.url) as session:
        create_agent(session, "tess", "Tess Ford", PASSWORD, teams=("general",), capacity=500)
    tess = DeskClient(stack.desk.url).login("tess", PASSWORD)
    try:
        assert tess.post("/api/status", {"status": "online"}).status == 200
        assert tess.post("/api/heartbeat").status == 200
        # the shared console runs no maintenance loop: nobody would assign the chat, so the
        # bot quotes the line (test_autoassign_browser.py keeps the promise with a real loop)
        queued = stack.sms.ask(fresh_phone(), "AGENT")
        assert "in line" in queued and queued != ASSIGNING_NOW
        with maintenance_beating(stack.url):  # as if a console ran the loop
            notice = stack.sms.ask(fresh_phone(), "AGENT")
        assert notice == ASSIGNING_NOW
        assert "wait" not in notice and "in line" not in notice
    finally:
        tess.post("/api/status", {"status": "offline"})


def test_a_suppressed_reply_is_no_first_reply(
    desk: DeskServer, people: People, signed_in: Callable[[str], DeskClient]
) -> None:
    url = desk.database_url
    chat = queue_chat(url, "+15550007001", "help me")
    with session_scope(url) as session:
        set_opted_out(session, "+15550007001", True)
    alice, sue = signed_in("alice"), signed_in("sue")
    base = f"/api/conversations/{chat.conversation_id}"
    assert alice.post(base + "/claim").status == 200
    sent = alice.post(base + "/reply", {"text": "Hi, Alice here."}).json()
    assert sent["suppressed"] is True and sent["status"] == "suppressed"
    with session_scope(url) as session:
        assert session.get(HandoffRequest, chat.handoff_id).first_reply_at is None
    today = sue.get("/api/supervisor/overview").json()["overview"]["today"]
    assert today["first_reply"]["count"] == 0
    # texts again once resubscribed: that reply counts
    with session_scope(url) as session:
        set_opted_out(session, "+15550007001", False)
    assert alice.post(base + "/reply", {"text": "Back again."}).json()["suppressed"] is False
    with session_scope(url) as session:
        assert session.get(HandoffRequest, chat.handoff_id).first_reply_at is not None
    today = sue.get("/api/supervisor/overview").json()["overview"]["today"]
    assert today["first_reply"]["count"] == 0  # written, not yet sent
    assert outbox_sends(url, "+15550007001") == 1
    today = sue.get("/api/supervisor/overview").json()["overview"]["today"]
    assert today["first_reply"]["count"] == 1
