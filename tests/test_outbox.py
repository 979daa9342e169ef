"""The outbox and inbound queue on real SQLite and PostgreSQL databases."""

from __future__ import annotations

import datetime as dt
import threading

from bot.sms import inbound, outbox
from bot.store.customers import set_opted_out
from bot.store.db import session_scope
from bot.store.models import OutboxMessage
from bot.store.seed import ALEX, SAM


def queue(phone: str, text: str, **kwargs) -> outbox.OutboxView:
    with session_scope() as session:
        return outbox.enqueue(session, phone, text, **kwargs)


def claim(limit: int = 20, busy=()) -> list:
    with session_scope() as session:
        return outbox.claim_due(session, limit=limit, busy_phones=busy)


def test_one_row_per_phone_in_order(database_url: str) -> None:
    a1, a2 = queue(ALEX, "first"), queue(ALEX, "second")
    s1 = queue(SAM, "for sam")
    first = claim()
    assert [r.id for r in first] == [a1.id, s1.id]
    assert all(r.status == "sending" and r.attempts == 1 for r in first)
    assert claim() == []  # Alex's second waits for the first
    with session_scope() as session:
        outbox.mark_sent(session, a1.id, "uuid-a1")
    assert [r.id for r in claim()] == [a2.id]


def test_retry_waits_and_is_not_overtaken(database_url: str) -> None:
    a1, a2 = queue(ALEX, "first"), queue(ALEX, "second")
    [row] = claim()
    with session_scope() as session:
        outbox.mark_retry(session, row.id, "503", dt.timedelta(seconds=60), ambiguous=False)
    assert claim() == []  # a1 backs off; a2 must not jump ahead of it
    with session_scope() as session:
        session.get(OutboxMessage, a1.id).next_attempt_at = dt.datetime(2000, 1, 1)
    [again] = claim()
    assert again.id == a1.id and again.attempts == 2 and a2.id != again.id


def test_concurrent_claimers_never_share_a_row(database_url: str) -> None:
    phones = [f"+1500555{i:04d}" for i in range(40)]
    for phone in phones:
        queue(phone, "hello")
    results: list = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(5):
            got = claim(limit=10)
            with lock:
                results.extend(r.id for r in got)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == len(set(results)) == 40


def test_dead_worker_rows_come_back_as_ambiguous(database_url: str) -> None:
    row = queue(ALEX, "hello")
    claim()
    with session_scope() as session:
        assert outbox.reclaim_stale(session, dt.timedelta(seconds=60)) == 0
        session.get(OutboxMessage, row.id).last_attempt_at = dt.datetime(2000, 1, 1)
    with session_scope() as session:
        assert outbox.reclaim_stale(session, dt.timedelta(seconds=60)) == 1
    [again] = claim()
    assert again.id == row.id and again.ambiguous


def test_opted_out_numbers_get_nothing_but_the_confirmation(database_url: str) -> None:
    with session_scope() as session:
        set_opted_out(session, ALEX, True)
    assert queue(ALEX, "bot reply").status == "suppressed"
    assert queue(ALEX, "agent reply", kind="agent", author="agent:1").status == "suppressed"
    assert queue(ALEX, "unsubscribed", kind="optout_confirmation").status == "queued"


def test_status_callbacks_and_carrier_opt_out(database_url: str) -> None:
    row = queue(ALEX, "hello")
    claim()
    with session_scope() as session:
        outbox.mark_sent(session, row.id, "uuid-1")
    with session_scope() as session:
        assert outbox.apply_status_callback(session, "uuid-1", "delivered", "")
        assert outbox.apply_status_callback(session, "uuid-1", "sent", "")  # late, ignored
        assert not outbox.apply_status_callback(session, "nope", "delivered", "")
        assert outbox.get_row(session, row.id).status == "delivered"
    other = queue(SAM, "hi")
    claim()
    with session_scope() as session:
        outbox.mark_sent(session, other.id, "uuid-2")
    with session_scope() as session:
        outbox.apply_status_callback(session, "uuid-2", "failed", "200")
    with session_scope() as session:
        assert outbox.get_row(session, other.id).error_code == "200"
    assert queue(SAM, "anyone there?").status == "suppressed"


def test_segment_budget_keeps_the_rest_for_more(database_url: str) -> None:
    long_text = " ".join(["word"] * 120)  # 599 chars: 4 GSM segments
    row = queue(ALEX, long_text, segment_budget=2)
    assert row.segments <= 2 and row.text.endswith("(reply MORE)") and row.overflow
    with session_scope() as session:
        rest = outbox.take_overflow(session, ALEX)
        assert outbox.take_overflow(session, ALEX) is None
    assert row.text.replace(" (reply MORE)", "").split() + rest.split() == long_text.split()


def test_inbound_is_recorded_once(database_url: str) -> None:
    with session_scope() as session:
        first = inbound.record_inbound(session, ALEX, "hi", "uuid-x")
        again = inbound.record_inbound(session, ALEX, "hi", "uuid-x")
    assert first is not None and again is None


def test_delivery_report_before_the_uuid_is_stored(database_url: str) -> None:
    row = queue(ALEX, "hello")
    claim()
    with session_scope() as session:  # Plivo's callback beats our own bookkeeping
        assert not outbox.apply_status_callback(session, "early-uuid", "delivered", "")
    with session_scope() as session:
        outbox.mark_sent(session, row.id, "early-uuid")
    with session_scope() as session:
        assert outbox.get_row(session, row.id).status == "delivered"


def test_opt_out_after_queueing_suppresses_at_claim(database_url: str) -> None:
    row = queue(ALEX, "queued before the STOP")
    confirmation = queue(SAM, "unsubscribed", kind="optout_confirmation")
    with session_scope() as session:
        set_opted_out(session, ALEX, True)
        set_opted_out(session, SAM, True)
    assert [r.id for r in claim()] == [confirmation.id]
    with session_scope() as session:
        assert outbox.get_row(session, row.id).status == "suppressed"
