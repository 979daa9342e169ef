"""The SMS path's failures outside the scaled topology (the SMS API answering 503 and the
action server killed on PostgreSQL with two workers are tests/test_faults_scaled.py's):
the action server killed on the embedded default (SQLite, one worker, in-memory locks),
and the outbox giving a reply up only after its maximum age."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from pathlib import Path
from typing import List

import pytest
from sqlalchemy import select

from bot.launcher import IN_MEMORY_LOCKS, wait_http
from bot.settings import Settings
from bot.sms import outbox
from bot.sms.conversation import ASSISTANT_ERROR_REPLY
from bot.sms.outbox_worker import OutboxWorker
from bot.sms.plivo_sender import PlivoSender
from bot.sms.reassure import reassurance_text
from bot.store.db import session_scope
from bot.store.models import Conversation, HandoffRequest, Message, OutboxMessage
from bot.store.seed import ALEX
from devtools.plivo_standin.runner import StandIn
from tests.sms_counts import SentText, count
from tests.sms_harness import AUTH_ID, AUTH_TOKEN, BUSINESS, SmsSetup, http_json, inbound_params


def _phones(prefix: str, count: int) -> List[str]:
    base = time.time_ns() % 1000
    return [f"+1555{prefix}{base:03d}{i:02d}" for i in range(count)]


# The `database_url` fixture (tests/conftest.py): migrated, seeded.
on_postgres = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
on_sqlite = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _handoffs(database_url: str, phone: str) -> List[tuple]:
    with session_scope(database_url) as session:
        return session.execute(
            select(HandoffRequest.reason, HandoffRequest.team).where(HandoffRequest.phone == phone)
        ).all()


def _inbound_statuses(database_url: str, phone: str) -> List[str]:
    with session_scope(database_url) as session:
        return list(
            session.execute(
                select(Message.status)
                .join(Conversation, Conversation.id == Message.conversation_id)
                .where(Message.direction == "in", Conversation.phone == phone)
                .order_by(Message.id)
            ).scalars()
        )


@pytest.mark.slow
@on_sqlite
def test_action_server_down_on_sqlite_gets_a_polite_reply_and_a_handoff(
    database_url: str, trained_model: Path, tmp_path: Path
) -> None:
    """The embedded default (SQLite, one worker, in-memory locks), kill -9 of the action
    server: texts that need an action get one polite reply and are queued for a person
    (once, also when the customer texts again; also a form's first step), a text that
    needs no action is answered as usual, nothing crashes; once the action server is back,
    texts are answered normally."""
    setup = SmsSetup(
        database_url=database_url,
        model=trained_model,
        log_dir=tmp_path,
        lock_store=IN_MEMORY_LOCKS,
        workers=1,
    ).start()
    assert setup.stack is not None
    try:
        assert setup.ask("+15557500999", "hi").startswith("Hi!")
        setup.stack.kill("actions")
        order, human, faq, booking, menu = _phones("75", 5)
        sent = {  # one text each: the key its proper answer would repeat
            order: [SentText("A1001", "where is order A1001", str(uuid.uuid4()))],
            human: [SentText("person", "I need a human", str(uuid.uuid4()))],
            faq: [SentText("parking", "is there parking", str(uuid.uuid4()))],
            # the form would half answer
            booking: [SentText("room", "book a room dec 20-22 for 2 ppl", str(uuid.uuid4()))],
            menu: [SentText("I can:", "menu", str(uuid.uuid4()))],
        }
        for phone, (text,) in sent.items():
            params = inbound_params(phone, text.text, text.uuid)
            assert setup.signed_webhook(params)[0] == 200
        for phone in sent:
            setup.wait_replies(phone, 1, timeout=60)

        needed_action = [order, human, faq, booking]
        for phone in needed_action:
            assert setup.sent(phone)[0]["text"] == ASSISTANT_ERROR_REPLY
            assert _handoffs(database_url, phone) == [("assistant_error", "general")]
        assert setup.sent(menu)[0]["text"].startswith("I can:")
        assert _handoffs(database_url, menu) == []

        # Texting again while queued goes to the agents: no bot reply, no second handoff,
        # one reassurance that a person will text (bot/sms/reassure.py).
        assert setup.signed_webhook(inbound_params(order, "hello??"))[0] == 200
        deadline = time.monotonic() + 30
        while _inbound_statuses(database_url, order)[-1:] != ["held"]:
            assert time.monotonic() < deadline, _inbound_statuses(database_url, order)
            time.sleep(0.2)
        assert _inbound_statuses(database_url, order) == ["processed", "held"]
        assert _handoffs(database_url, order) == [("assistant_error", "general")]

        time.sleep(2)  # anything sent twice would show up by now
        opening = reassurance_text(1).split(" You're")[0]  # its place in line may vary
        replies = [m for m in setup.sent() if not m["text"].startswith(opening)]
        assert [m["text"].startswith(opening) for m in setup.sent(order)] == [False, True]
        figures = count(sent, replies, apology=ASSISTANT_ERROR_REPLY)
        print("\n" + figures.line("action server down (SQLite)"))
        assert (figures.sent, figures.answered, figures.apologies) == (5, 5, 4)
        assert figures.clean, figures.problems
        # Nothing crashed: every process still runs and answers.
        assert http_json("GET", f"{setup.front_url}/health")["status"] == "ok"
        wait_http(f"{setup.bot_url}/", timeout=5)
        for name in setup.stack.workers():
            assert setup.stack.processes[name].poll() is None, name
        worker_logs = "".join((tmp_path / f"{n}.log").read_text() for n in setup.stack.workers())
        assert "custom actions failed: action_track_order" in worker_logs

        actions = setup.stack.restart("actions")
        wait_http(f"http://127.0.0.1:{setup.stack.action_port}/health", proc=actions)
        assert "parking" in setup.ask(_phones("76", 1)[0], "is there parking").lower()
        assert "A1001 has shipped with UPS" in setup.ask(ALEX, "where is order A1001")
        assert _handoffs(database_url, ALEX) == []
    finally:
        setup.stop()


@pytest.mark.postgres
@on_postgres
def test_the_outbox_gives_up_only_after_its_max_age(database_url: str) -> None:
    """An outbox worker against the stand-in answering 503: a reply younger than
    OUTBOX_GIVE_UP_AFTER_SECONDS stays queued and is retried, an older one is failed."""
    standin = StandIn(AUTH_ID, AUTH_TOKEN, BUSINESS, None).start()
    try:
        settings = dataclasses.replace(
            Settings(),
            database_url=database_url,
            plivo_number=BUSINESS,
            sms_rate_per_second=100,
            outbox_retry_base_seconds=0.2,
            outbox_retry_cap_seconds=0.5,
            outbox_give_up_after_seconds=3.0,
        )
        http_json("POST", f"{standin.url}/_standin/fail", {"status": 503, "seconds": 60})
        (phone,) = _phones("77", 1)
        with session_scope(database_url) as session:
            row = outbox.enqueue(session, phone, "a reply nobody can send")

        async def run_for(seconds: float) -> None:
            sender = PlivoSender(AUTH_ID, AUTH_TOKEN, standin.url, timeout=2)
            worker = OutboxWorker(sender, settings, poll_interval=0.1)
            task = asyncio.create_task(worker.run())
            await asyncio.sleep(seconds)
            await worker.stop()
            task.cancel()

        asyncio.run(run_for(1.5))
        with session_scope(database_url) as session:
            young = outbox.get_row(session, row.id)
        assert young is not None and young.status == "queued" and young.attempts >= 2
        asyncio.run(run_for(3.0))
        with session_scope(database_url) as session:
            old = outbox.get_row(session, row.id)
            error = session.get(OutboxMessage, row.id).error
        assert old is not None and old.status == "failed", old
        assert "given up after 3 s" in error
        messages = http_json("GET", f"{standin.url}/_standin/messages?to={phone}")["messages"]
        assert messages == []
    finally:
        standin.stop()
