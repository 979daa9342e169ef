"""Handoff over SMS: the queue takes the chat, the bot stays silent (also across a Rasa
session expiry), an agent's reply goes out through the outbox, resolve hands back."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bot.desk import agents
from bot.settings import Settings
from bot.sms import outbox
from bot.store import ownership
from bot.store.db import session_scope
from bot.store.models import Message
from tests.sms_harness import SmsSetup

pytestmark = pytest.mark.slow


def test_person_owns_the_chat_and_the_bot_is_silent(
    database_url: str, trained_model: Path, tmp_path: Path
) -> None:
    phone = "+15550123456"
    setup = SmsSetup(database_url, trained_model, tmp_path).start()
    try:
        assert setup.ask(phone, "hi").startswith("Hi!")
        queued = setup.ask(phone, "can i talk to a real person pls")
        assert "#1 in line" in queued and "typical wait" in queued
        with session_scope() as session:
            agent = agents.create_agent(session, "ann", "Ann", "password123")
            current = ownership.ownership_of(session, phone)
            assert current.owner == "queue"
            assert ownership.claim(session, current.conversation_id, agent.id)
        sent_before = len(setup.sent(phone))
        setup.text(phone, "my order never came")
        # Rasa would start a new session (and forget a pause) after 60 idle minutes:
        with session_scope(Settings.from_env().tracker_database_url) as session:
            session.execute(
                text("UPDATE events SET timestamp = timestamp - 7200 WHERE sender_id = :p"),
                {"p": phone},
            )
        setup.text(phone, "hello?? anyone")
        setup.text(phone, "where is my order A1001")
        time.sleep(3)
        assert len(setup.sent(phone)) == sent_before  # the bot said nothing
        with session_scope() as session:
            held = (
                session.execute(
                    select(Message.text).where(Message.status == "held").order_by(Message.id)
                )
                .scalars()
                .all()
            )
        assert held == ["my order never came", "hello?? anyone", "where is my order A1001"]

        with session_scope() as session:
            outbox.enqueue(
                session,
                phone,
                "Hi, Ann here. Checking your order now.",
                kind="agent",
                author=f"agent:{agent.id}",
            )
        assert setup.wait_replies(phone, sent_before + 1)[-1].startswith("Hi, Ann here")

        with session_scope() as session:
            assert ownership.resolve(session, current.conversation_id, agent.id)
        assert setup.ask(phone, "hi").startswith("Hi!")  # the bot again
        with session_scope(Settings.from_env().tracker_database_url) as session:
            slots = (
                session.execute(
                    text("SELECT data FROM events WHERE sender_id = :p AND type_name = 'slot'"),
                    {"p": phone},
                )
                .scalars()
                .all()
            )
        assert any(
            json.loads(d).get("name") == "resolved_by_agent" and json.loads(d).get("value") is True
            for d in slots
        )
    finally:
        setup.stop()


def test_waiting_texter_can_go_back_to_the_bot(
    database_url: str, trained_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    phone = "+15550123457"
    setup = SmsSetup(database_url, trained_model, tmp_path).start()
    try:
        assert "in line" in setup.ask(phone, "AGENT")
        monkeypatch.setenv("UNCLAIMED_OFFER_SECONDS", "0")
        from bot.desk.maintenance import maintain_once

        assert maintain_once(Settings.from_env())["offered"] == 1
        offer = setup.wait_replies(phone, 2)[-1]
        assert "Reply BOT" in offer and "WAIT" in offer
        assert "keep your place" in setup.ask(phone, "wait")
        assert "back with our assistant" in setup.ask(phone, "BOT")
        assert "A1001" in setup.ask(phone, "ORDER A1001")  # the bot answers again
    finally:
        setup.stop()
