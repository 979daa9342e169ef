"""The SMS path with real servers on SQLite (one worker) and PostgreSQL (two workers):
per-phone order, crashes right after the ack and in the middle of a turn, an unreachable
assistant. Nothing is lost and nothing is answered (or written) twice."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from pathlib import Path
from typing import List

import pytest
from sqlalchemy import func, select

from bot.launcher import IN_MEMORY_LOCKS, redis_locks
from bot.store.db import session_scope
from bot.store.models import BookingRequest, Customer, Message
from bot.store.seed import ALEX
from tests.sms_harness import SmsSetup, http_json, inbound_params

pytestmark = pytest.mark.slow


def _workers(database_url: str) -> int:
    """SQLite (the embedded default) runs one worker process; PostgreSQL here two."""
    return 2 if database_url.startswith("postgresql") else 1


def _phones(prefix: str, count: int) -> List[str]:
    base = time.time_ns() % 1000
    return [f"+1555{prefix}{base:03d}{i:02d}" for i in range(count)]


@pytest.mark.parametrize("victim", ["worker-1", "receiver", "rasa"])
def test_killing_a_process_right_after_the_ack_loses_nothing(
    database_url: str, trained_model: Path, tmp_path: Path, victim: str
) -> None:
    """kill -9 of one process right after 12 acks, then it is started again (as systemd
    would): every text is answered exactly once."""
    from bot.launcher import wait_http

    setup = SmsSetup(database_url, trained_model, tmp_path, workers=_workers(database_url)).start()
    assert setup.stack is not None
    try:
        phones = _phones("70", 12)
        for phone in phones:  # acked one by one, then the process dies at once
            assert setup.signed_webhook(inbound_params(phone, "hi"))[0] == 200
        setup.stack.kill(victim)
        if victim != "receiver":  # the receiver's death leaves the workers answering
            answered_before = sum(1 for p in phones if setup.sent(p))
            assert answered_before < len(phones), "the kill came too late to prove anything"
        proc = setup.stack.restart(victim)
        if victim == "receiver":
            wait_http(f"{setup.front_url}/webhooks/plivo/", proc=proc)
        elif victim == "rasa":
            wait_http(f"{setup.bot_url}/webhooks/plivo/", proc=proc)
        # A reply the dead process was sending waits out the outbox's 60 s lease (checked
        # every 10 s) and a look at Plivo's message list before it goes out again.
        for phone in phones:
            assert setup.wait_replies(phone, 1, timeout=120)[0].startswith("Hi!")
        time.sleep(2)
        assert all(len(setup.sent(p)) == 1 for p in phones)  # and nothing twice
    finally:
        setup.stop()


def test_sms_round_trip(database_url: str, trained_model: Path, tmp_path: Path) -> None:
    """SQLite with in-memory locks (local), PostgreSQL with Redis locks (production)."""
    locks = IN_MEMORY_LOCKS
    if database_url.startswith("postgresql"):
        locks = redis_locks(prefix=f"test{uuid.uuid4().hex[:8]}")
    setup = SmsSetup(
        database_url, trained_model, tmp_path, lock_store=locks, workers=_workers(database_url)
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


def test_a_burst_is_answered_in_order_per_phone(
    database_url: str, trained_model: Path, tmp_path: Path
) -> None:
    """One phone's 4 texts arrive at once among other phones' texts: its answers come in
    the order it texted (SQLite: one worker; PostgreSQL: two worker processes)."""
    setup = SmsSetup(database_url, trained_model, tmp_path, workers=_workers(database_url)).start()
    try:
        (phone,) = _phones("71", 1)
        others = _phones("72", 8)
        orders = ["A1001", "A1002", "A1003", "A1004"]
        noise = [
            threading.Thread(
                target=lambda p=p: setup.signed_webhook(inbound_params(p, "is there parking"))
            )
            for p in others
        ]
        for thread in noise[:4]:
            thread.start()
        for order in orders:  # back to back: each returns at its acknowledgement
            assert setup.signed_webhook(inbound_params(phone, f"where is order {order}"))[0] == 200
        for thread in noise[4:]:
            thread.start()
        for thread in noise:
            thread.join()
        replies = setup.wait_replies(phone, 4, timeout=60)
        mentioned = [[o for o in orders if o in r] for r in replies]
        assert mentioned == [[o] for o in orders], replies
        for other in others:
            assert "parking" in setup.wait_replies(other, 1, timeout=60)[0].lower()
        time.sleep(1)
        assert len(setup.sent(phone)) == 4
    finally:
        setup.stop()


def _user_events(setup: SmsSetup, phone: str, message_id: str) -> int:
    tracker = http_json("GET", f"{setup.bot_url}/conversations/{phone}/tracker?include_events=ALL")
    return sum(
        1
        for event in tracker["events"]
        if event.get("event") == "user" and event.get("message_id") == message_id
    )


def test_a_worker_killed_mid_turn_is_replaced_and_the_turn_counts_once(
    database_url: str, trained_model: Path, tmp_path: Path
) -> None:
    """kill -9 of the worker while its turn waits for the action server that stores a
    room request: the text is claimed again and answered once; the replayed turn adds
    no second user event to the tracker and no second room request."""
    setup = SmsSetup(
        database_url, trained_model, tmp_path, extra_rasa_args=["--enable-api"]
    ).start()
    assert setup.stack is not None
    actions = setup.stack.processes["actions"]
    try:
        (phone,) = _phones("73", 1)
        setup.ask(phone, "book a room dec 20-22 for 2 ppl, king, no special requests")
        assert "1) Yes  2) No" in setup.ask(phone, "no")
        before = len(setup.sent(phone))
        confirm = inbound_params(phone, "1")
        os.kill(actions.pid, signal.SIGSTOP)  # the turn hangs in action_submit_booking
        try:
            assert setup.signed_webhook(confirm)[0] == 200
            time.sleep(2.5)  # claimed, and Rasa is waiting for the action server
            setup.stack.kill("worker-1")
            setup.stack.restart("worker-1")
        finally:
            os.kill(actions.pid, signal.SIGCONT)
        reply = setup.wait_replies(phone, before + 1, timeout=60)[before]
        assert "not a guaranteed booking" in reply
        time.sleep(3)
        assert len(setup.sent(phone)) == before + 1
        assert _user_events(setup, phone, confirm["MessageUUID"]) == 1
        with session_scope(database_url) as session:
            requests = session.execute(
                select(BookingRequest.source_message_id)
                .join(Customer)
                .where(Customer.phone == phone)
            ).all()
            status = session.execute(
                select(Message.status).where(Message.provider_uuid == confirm["MessageUUID"])
            ).scalar_one()
        assert [r.source_message_id for r in requests] == [confirm["MessageUUID"]]
        assert status == "processed"
    finally:
        setup.stop()


def test_the_worker_keeps_texts_while_the_assistant_is_down(
    trained_model: Path, tmp_path: Path
) -> None:
    """The Rasa server dies; the receiver still acknowledges and records, the worker backs
    off, and once the assistant is back every text is answered exactly once."""
    from bot.launcher import wait_http
    from bot.store.migrate import upgrade

    database_url = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(database_url)
    setup = SmsSetup(database_url, trained_model, tmp_path).start()
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
            waiting = session.execute(
                select(func.count()).where(
                    Message.direction == "in", Message.status.in_(["received", "processing"])
                )
            ).scalar_one()
        assert waiting == len(phones)
        server = setup.stack.restart("rasa")
        wait_http(f"{setup.bot_url}/webhooks/plivo/", proc=server)
        for phone in phones:
            assert setup.wait_replies(phone, 1, timeout=60)[0].startswith("Hi!")
        time.sleep(2)
        assert all(len(setup.sent(p)) == 1 for p in phones)
        log = (tmp_path / "worker-1.log").read_text()
        assert "assistant unreachable" in log
    finally:
        setup.stop()


def test_a_replayed_process_call_is_refused_by_the_other_rasa_server(
    database_url: str, trained_model: Path, tmp_path: Path
) -> None:
    """A worker's signed call, captured and sent again within the timestamp window to
    another Rasa server of the deployment, is refused: the nonces are shared."""
    import json

    from bot.sms import gateway_auth
    from tests.sms_harness import AUTH_TOKEN, post_form

    setup = SmsSetup(database_url, trained_model, tmp_path, rasa_servers=2).start()
    assert setup.stack is not None
    try:
        first, second = setup.stack.rasa_urls
        body = json.dumps({"phone": ALEX, "text": "hi", "message_id": "probe-replay"}).encode()
        headers = {"Content-Type": "application/json", **gateway_auth.sign(body, AUTH_TOKEN)}
        status, answer = post_form(f"{first}/webhooks/plivo/process", body, headers)
        assert status == 200 and answer["messages"]
        replayed = post_form(f"{second}/webhooks/plivo/process", body, headers)
        assert replayed == (403, {"error": "replayed nonce"})
        fresh = {"Content-Type": "application/json", **gateway_auth.sign(body, AUTH_TOKEN)}
        status, again = post_form(f"{second}/webhooks/plivo/process", body, fresh)
        assert status == 200 and again == answer  # the same turn, answered from the tracker
    finally:
        setup.stop()
