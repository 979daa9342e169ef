"""The SMS path survives a crash right after the ack (of the gateway or of the Rasa
server), and runs on SQLite and PostgreSQL with either front door."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import cpus
from bot.launcher import IN_MEMORY_LOCKS, redis_locks
from bot.settings import inbox_database_url
from bot.sms import inbox
from bot.store.db import session_scope
from bot.store.models import Message
from bot.store.seed import ALEX
from tests.sms_harness import SmsSetup, inbound_params

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    "front_door, victim", [("rasa", "rasa"), ("gateway", "gateway"), ("gateway", "rasa")]
)
def test_killing_a_process_right_after_the_ack_loses_nothing(
    database_url: str, trained_model: Path, tmp_path: Path, front_door: str, victim: str
) -> None:
    setup = SmsSetup(database_url, trained_model, tmp_path, front_door=front_door).start()
    try:
        phones = [f"+1555700{i:04d}" for i in range(12)]
        for phone in phones:  # acked one by one, then the process dies at once
            assert setup.signed_webhook(inbound_params(phone, "hi"))[0] == 200
        setup.kill_bot(victim)
        with session_scope(database_url) as session:
            unfinished = session.execute(
                select(Message.id).where(
                    Message.direction == "in", Message.status.in_(["received", "processing"])
                )
            ).all()
        inbox_url = inbox_database_url(database_url)
        uncopied = inbox.uncopied_count(inbox_url) if inbox_url else 0  # SQLite's inbox
        answered_before = sum(1 for p in phones if setup.sent(p))
        assert unfinished or uncopied, "the kill came too late to prove anything"
        assert answered_before < len(phones)
        setup.start_bot()
        # A reply the dead process was sending waits out the outbox's 60 s lease (checked
        # every 10 s) and a look at Plivo's message list before it goes out again.
        for phone in phones:
            assert setup.wait_replies(phone, 1, timeout=120)[0].startswith("Hi!")
        time.sleep(2)
        assert all(len(setup.sent(p)) == 1 for p in phones)  # and nothing twice
    finally:
        setup.stop()


@pytest.mark.parametrize("front_door", ["rasa", "gateway"])
def test_sms_round_trip(
    database_url: str, trained_model: Path, tmp_path: Path, front_door: str
) -> None:
    """SQLite with in-memory locks (local), PostgreSQL with Redis locks (production)."""
    locks = IN_MEMORY_LOCKS
    if database_url.startswith("postgresql"):
        locks = redis_locks(prefix=f"test{uuid.uuid4().hex[:8]}")
    setup = SmsSetup(
        database_url, trained_model, tmp_path, lock_store=locks, front_door=front_door
    ).start()
    try:
        reply = setup.ask(ALEX, "ORDER A1001")
        assert "A1001 has shipped with UPS" in reply
        params = inbound_params(ALEX, "is there parking")
        assert setup.signed_webhook(params)[0] == 200
        assert setup.signed_webhook(params) == (200, {"status": "duplicate"})
        assert "parking" in setup.wait_replies(ALEX, 2)[1].lower()
        time.sleep(1)
        assert len(setup.sent(ALEX)) == 2
    finally:
        setup.stop()


def test_gateway_keeps_texts_while_the_assistant_is_down(
    trained_model: Path, tmp_path: Path
) -> None:
    """The Rasa server dies; the gateway still acknowledges, records and, once the
    assistant is back, answers every text exactly once."""
    from bot.launcher import wait_http
    from bot.store.migrate import upgrade

    database_url = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(database_url)
    setup = SmsSetup(database_url, trained_model, tmp_path, front_door="gateway").start()
    try:
        assert setup.ask("+15557100000", "hi").startswith("Hi!")
        assert setup.stack is not None
        setup.stack.kill("rasa")
        phones = [f"+1555710{i:04d}" for i in range(1, 6)]
        for phone in phones:
            assert setup.signed_webhook(inbound_params(phone, "hi"))[0] == 200
        time.sleep(3)
        assert not any(setup.sent(p) for p in phones)
        with session_scope(database_url) as session:
            waiting = (
                session.execute(
                    select(Message.status).where(
                        Message.direction == "in", Message.status != "processed"
                    )
                )
                .scalars()
                .all()
            )
        assert len(waiting) == len(phones) and set(waiting) <= {"received", "processing"}
        server = setup.stack.restart("rasa")
        wait_http(f"{setup.bot_url}/webhooks/plivo/", proc=server)
        for phone in phones:
            assert setup.wait_replies(phone, 1, timeout=60)[0].startswith("Hi!")
        time.sleep(2)
        assert all(len(setup.sent(p)) == 1 for p in phones)
        log = (tmp_path / "gateway.log").read_text()
        assert "assistant unreachable" in log
    finally:
        setup.stop()


def test_a_dead_dispatcher_is_restarted_and_loses_nothing(
    trained_model: Path, tmp_path: Path
) -> None:
    """The gateway's child process dies: the receiver still acks, starts a new dispatcher
    by itself (texts sent before it has even noticed the death included), and every text
    is answered once."""
    import os
    import signal

    from bot.launcher import child_pids
    from bot.store.migrate import upgrade

    database_url = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(database_url)
    # the split `make run` uses on SQLite: the Rasa server on a CPU of its own
    assistant = cpus.assistant_cpus({"DATABASE_URL": database_url})
    others = cpus.available() - (assistant or set()) or cpus.available()
    setup = SmsSetup(
        database_url, trained_model, tmp_path, front_door="gateway", assistant_cpus=assistant
    ).start()
    try:
        assert setup.ask("+15557200000", "hi").startswith("Hi!")
        assert setup.stack is not None
        gateway = setup.stack.processes["gateway"]
        (dispatcher,) = child_pids(gateway.pid)
        assert cpus.allowed_cpus(setup.stack.processes["rasa"].pid) == (
            assistant or cpus.available()
        )
        for pid in (gateway.pid, dispatcher, setup.stack.processes["actions"].pid):
            assert cpus.allowed_cpus(pid) == others
        os.kill(dispatcher, signal.SIGKILL)
        phones = [f"+1555720{i:04d}" for i in range(1, 4)]
        for phone in phones:
            assert setup.signed_webhook(inbound_params(phone, "hi"))[0] == 200
        for phone in phones:
            assert setup.wait_replies(phone, 1, timeout=60)[0].startswith("Hi!")
        time.sleep(2)
        assert all(len(setup.sent(p)) == 1 for p in phones)
        assert child_pids(gateway.pid) and child_pids(gateway.pid) != [dispatcher]
        log = (tmp_path / "gateway.log").read_text()
        assert "dispatcher is not running (exit code -9 after" in log
        # with no text arriving, a dead dispatcher is replaced too
        (second,) = child_pids(gateway.pid)
        os.kill(second, signal.SIGKILL)
        deadline = time.monotonic() + 15
        while child_pids(gateway.pid) in ([], [second]) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert child_pids(gateway.pid) not in ([], [second])
        (third,) = child_pids(gateway.pid)
        assert cpus.allowed_cpus(third) == others  # a restarted dispatcher stays off Rasa's CPU
    finally:
        setup.stop()
