"""Two failures of the SMS path, through the real servers on PostgreSQL with two workers
and Redis locks (the action server's also on SQLite with one worker): the SMS API
answering 503 for a while, and the action server killed. Each prints and asserts the
delivery figures (tests/delivery_counts.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
import uuid
from pathlib import Path
from typing import Dict, List

import pytest
from sqlalchemy import select

from bot.launcher import IN_MEMORY_LOCKS, redis_locks, wait_http
from bot.settings import Settings
from bot.sms import outbox
from bot.sms.conversation import ASSISTANT_ERROR_REPLY
from bot.sms.outbox_worker import OutboxWorker
from bot.sms.plivo_sender import PlivoSender
from bot.store.db import session_scope
from bot.store.models import Conversation, HandoffRequest, Message, OutboxMessage
from bot.store.seed import ALEX
from devtools.plivo_standin.runner import StandIn
from tests.delivery_counts import counts
from tests.sms_harness import AUTH_ID, AUTH_TOKEN, BUSINESS, SmsSetup, http_json, inbound_params


def _phones(prefix: str, count: int) -> List[str]:
    base = time.time_ns() % 1000
    return [f"+1555{prefix}{base:03d}{i:02d}" for i in range(count)]


def _answers(text: str, reply: str) -> bool:
    """Which reply answers which text of these tests (the polite error reply answers any)."""
    if reply == ASSISTANT_ERROR_REPLY:
        return True
    if text == "hi":
        return reply.startswith("Hi!")
    if "parking" in text:
        return "parking" in reply.lower()
    if text.lower() == "menu":
        return reply.startswith("I can:")
    return False


def _replies(setup: SmsSetup, phones: List[str]) -> Dict[str, List[str]]:
    return {phone: [m["text"] for m in setup.sent(phone)] for phone in phones}


# The `database_url` fixture (tests/conftest.py), on PostgreSQL only: migrated, seeded.
on_postgres = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)


@pytest.fixture
def setup_args(database_url: str, trained_model: Path, tmp_path: Path) -> dict:
    """What SmsSetup needs: on PostgreSQL two workers and Redis locks (the production
    topology), on SQLite one worker and in-memory locks (the embedded default)."""
    postgres = database_url.startswith("postgresql")
    return {
        "database_url": database_url,
        "model": trained_model,
        "log_dir": tmp_path,
        "lock_store": redis_locks(prefix=f"test{uuid.uuid4().hex[:8]}")
        if postgres
        else IN_MEMORY_LOCKS,
        "workers": 2 if postgres else 1,
    }


def test_counts_tell_lost_duplicated_and_out_of_order_replies() -> None:
    sent = {"+1": ["hi", "is there parking"], "+2": ["hi", "is there parking"], "+3": ["hi"]}
    replies = {
        "+1": ["On-site parking is $15", "Hi! I can"],  # both answered, the wrong way round
        "+2": ["Hi! I can", "Hi! I can"],  # the second text lost, the first answered twice
    }
    figures = counts(sent, replies, _answers)
    assert figures.as_dict() == {
        "sent": 5,
        "answered": 3,
        "lost": 2,
        "duplicated": 1,
        "out_of_order": 1,
    }


@pytest.mark.slow
@pytest.mark.postgres
@on_postgres
def test_sms_api_503_for_a_while_then_every_reply_once_and_in_order(
    setup_args: dict,
) -> None:
    """Plivo answers 503 for 40 s while 10 phones text twice each: the replies wait in the
    outbox (retried with a short backoff cap, none given up), then each goes out exactly
    once, per phone in the order the texts came."""
    outage = 40.0
    env = {"OUTBOX_RETRY_BASE_SECONDS": "0.5", "OUTBOX_RETRY_CAP_SECONDS": "4"}
    setup = SmsSetup(**setup_args, extra_env=env).start()
    database_url = setup_args["database_url"]
    try:
        assert setup.ask("+15557300999", "hi").startswith("Hi!")  # all up
        phones = _phones("74", 10)
        texts = ["hi", "is there parking"]
        sent = {phone: list(texts) for phone in phones}
        setup.fail(status=503, seconds=outage)
        started = time.monotonic()

        def text_twice(phone: str) -> None:
            for text in texts:
                assert setup.signed_webhook(inbound_params(phone, text))[0] == 200

        threads = [threading.Thread(target=text_twice, args=(p,)) for p in phones]
        for thread in threads:
            thread.start()
            time.sleep(0.3)
        for thread in threads:
            thread.join()

        # Every text answered into the outbox while Plivo refuses: all waiting, retried.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with session_scope(database_url) as session:
                rows = session.execute(
                    select(OutboxMessage.status, OutboxMessage.attempts).where(
                        OutboxMessage.phone.in_(phones)
                    )
                ).all()
            if len(rows) == 20 and max(r.attempts for r in rows) >= 3:
                break
            time.sleep(0.5)
        assert time.monotonic() - started < outage, "the outage ended before the check"
        assert len(rows) == 20, rows
        assert {r.status for r in rows} <= {"queued", "sending"}, rows
        assert max(r.attempts for r in rows) >= 3
        assert not any(setup.sent(p) for p in phones)

        for phone in phones:
            setup.wait_replies(phone, 2, timeout=outage + 60)
        recovered = time.monotonic() - started
        time.sleep(3)  # anything sent twice would show up by now
        figures = counts(sent, _replies(setup, phones), _answers)
        print(f"\n503 for {outage:.0f} s: {figures}; all answered {recovered:.1f} s after it began")
        assert figures.as_dict() == {
            "sent": 20,
            "answered": 20,
            "lost": 0,
            "duplicated": 0,
            "out_of_order": 0,
        }
        with session_scope(database_url) as session:
            statuses = set(
                session.execute(
                    select(OutboxMessage.status).where(OutboxMessage.phone.in_(phones))
                ).scalars()
            )
        assert statuses <= {"sent", "delivered"}, statuses
        assert not any(ASSISTANT_ERROR_REPLY in r for r in _replies(setup, phones).values())
    finally:
        setup.stop()


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
def test_action_server_down_gets_a_polite_reply_and_a_handoff(
    setup_args: dict,
) -> None:
    """kill -9 of the action server: texts that need an action get one polite reply and
    are queued for a person (once, also when the customer texts again), a text that needs
    no action is answered as usual, nothing crashes; once the action server is back,
    texts are answered normally."""
    database_url = setup_args["database_url"]
    setup = SmsSetup(**setup_args).start()
    assert setup.stack is not None
    try:
        assert setup.ask("+15557500999", "hi").startswith("Hi!")
        setup.stack.kill("actions")
        order, human, faq, booking, menu = _phones("75", 5)
        sent = {
            order: ["where is order A1001"],
            human: ["I need a human"],
            faq: ["is there parking"],
            booking: ["book a room dec 20-22 for 2 ppl"],  # the form would half answer
            menu: ["menu"],
        }
        for phone, texts in sent.items():
            assert setup.signed_webhook(inbound_params(phone, texts[0]))[0] == 200
        for phone in sent:
            setup.wait_replies(phone, 1, timeout=60)

        needed_action = [order, human, faq, booking]
        for phone in needed_action:
            assert setup.sent(phone)[0]["text"] == ASSISTANT_ERROR_REPLY
            assert _handoffs(database_url, phone) == [("assistant_error", "general")]
        assert setup.sent(menu)[0]["text"].startswith("I can:")
        assert _handoffs(database_url, menu) == []

        # Texting again while queued goes to the agents: no bot reply, no second handoff.
        assert setup.signed_webhook(inbound_params(order, "hello??"))[0] == 200
        deadline = time.monotonic() + 30
        while _inbound_statuses(database_url, order)[-1:] != ["held"]:
            assert time.monotonic() < deadline, _inbound_statuses(database_url, order)
            time.sleep(0.2)
        assert _inbound_statuses(database_url, order) == ["processed", "held"]
        assert _handoffs(database_url, order) == [("assistant_error", "general")]

        time.sleep(2)  # anything sent twice would show up by now
        figures = counts(sent, _replies(setup, list(sent)), _answers)
        print(f"\naction server down: {figures}")
        assert figures.as_dict() == {
            "sent": 5,
            "answered": 5,
            "lost": 0,
            "duplicated": 0,
            "out_of_order": 0,
        }
        # Nothing crashed: every process still runs and answers.
        assert http_json("GET", f"{setup.front_url}/health")["status"] == "ok"
        wait_http(f"{setup.bot_url}/", timeout=5)
        for name in setup.stack.workers():
            assert setup.stack.processes[name].poll() is None, name
        worker_logs = "".join(
            (setup_args["log_dir"] / f"{n}.log").read_text() for n in setup.stack.workers()
        )
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
