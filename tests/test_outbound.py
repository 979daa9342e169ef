"""The outbound service on real databases (SQLite and PostgreSQL): consent, quiet hours in
the customer's timezone, idempotency, release exactly once, statuses from the outbox."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import List, Optional
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from bot.outbound import service
from bot.outbound.scheduler import ReleaseLoop
from bot.settings import Settings
from bot.sms import outbox
from bot.store.customers import set_opted_out, set_timezone
from bot.store.db import session_scope
from bot.store.models import Customer, OutboundText, OutboxMessage
from bot.store.seed import ALEX, JORDAN, PRIYA, SAM

NY = ZoneInfo("America/New_York")
NOON = dt.datetime(2026, 6, 10, 12, 0, tzinfo=NY)  # outside the default 21:00-08:00
LATE = dt.datetime(2026, 6, 10, 23, 0, tzinfo=NY)


def settings(url: str, **overrides: object) -> Settings:
    return Settings(database_url=url, business_tz="America/New_York", **overrides)


def request(url: str, phone: str, key: str, now: Optional[dt.datetime], **extra: object):
    with session_scope() as session:
        return service.request_text(
            session,
            extra.pop("settings", None) or settings(url),
            phone=phone,
            kind=extra.pop("kind", "survey"),
            body=extra.pop("body", "How was your stay? Reply 1-5."),
            idempotency_key=key,
            now=now,
            **extra,
        )


def schedule_for_later(url: str, phone: str, key: str = "stay-1") -> service.OutboundView:
    """A text scheduled an hour from now (the real clock: the release loop reads it)."""
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)
    off = settings(url, quiet_hours="off")
    text = request(url, phone, key, None, not_before=later, settings=off)
    assert text.status == "scheduled"
    return text


def get(text_id: int) -> service.OutboundView:
    with session_scope() as session:
        found = service.get_text(session, text_id)
    assert found is not None
    return found


def outbox_rows(phone: str) -> List[outbox.OutboxView]:
    with session_scope() as session:
        return outbox.rows_for_phone(session, phone)


def test_outside_quiet_hours_it_is_queued_in_the_outbox(database_url: str) -> None:
    text = request(database_url, ALEX, "stay-1", NOON)
    assert (text.status, text.suppress_reason, text.not_before) == ("queued", None, None)
    (row,) = outbox_rows(ALEX)
    assert (row.id, row.kind, row.status) == (text.outbox_id, "survey", "queued")
    assert row.text == "How was your stay? Reply 1-5."


def test_inside_quiet_hours_it_is_scheduled_for_the_morning(database_url: str) -> None:
    text = request(database_url, ALEX, "stay-1", LATE)
    assert text.status == "scheduled" and text.outbox_id is None
    assert text.not_before == dt.datetime(2026, 6, 11, 12, 0)  # 08:00 EDT, stored in UTC
    assert outbox_rows(ALEX) == []


def test_quiet_hours_are_the_customers_own(database_url: str) -> None:
    """23:00 in New York is 12:00 next day in Tokyo: a Tokyo customer gets it now."""
    with session_scope() as session:
        set_timezone(session, SAM, "Asia/Tokyo")
        with pytest.raises(ValueError, match="unknown timezone"):
            set_timezone(session, PRIYA, "Mars/Olympus")
    assert request(database_url, SAM, "stay-2", LATE).status == "queued"
    assert request(database_url, ALEX, "stay-1", LATE).status == "scheduled"


def test_quiet_hours_setting_and_a_later_send(database_url: str) -> None:
    off = settings(database_url, quiet_hours="")
    assert request(database_url, ALEX, "a", LATE, settings=off).status == "queued"
    later = request(database_url, SAM, "b", NOON, not_before=NOON + dt.timedelta(hours=2))
    assert later.status == "scheduled"
    assert later.not_before == dt.datetime(2026, 6, 10, 18, 0)  # 14:00 EDT
    # asked for 22:00: quiet hours still apply, so the next morning
    night = request(database_url, PRIYA, "c", NOON, not_before=NOON + dt.timedelta(hours=10))
    assert night.not_before == dt.datetime(2026, 6, 11, 12, 0)


def test_opted_out_numbers_are_suppressed_with_the_reason(database_url: str) -> None:
    with session_scope() as session:
        set_opted_out(session, JORDAN, True)
    text = request(database_url, JORDAN, "nps-1", NOON, kind="nps")
    assert (text.status, text.suppress_reason, text.outbox_id) == ("suppressed", "opted_out", None)
    assert outbox_rows(JORDAN) == []


def test_one_key_one_text(database_url: str) -> None:
    first = request(database_url, ALEX, "order-A1001-shipped", NOON, kind="notification")
    again = request(
        database_url, ALEX, "order-A1001-shipped", NOON, kind="notification", body="changed"
    )
    assert again.id == first.id and again.outbox_id == first.outbox_id
    assert len(outbox_rows(ALEX)) == 1
    other_kind = request(database_url, ALEX, "order-A1001-shipped", NOON, kind="survey")
    assert other_kind.id != first.id  # keys are per kind
    with pytest.raises(service.OutboundRequestError, match="another number"):
        request(database_url, SAM, "order-A1001-shipped", NOON, kind="notification")


def test_bad_requests_get_a_clear_error_and_write_nothing(database_url: str) -> None:
    bad = [
        {"phone": "not a phone"},
        {"kind": "Survey!"},
        {"kind": "a" * 21},  # longer than the outbox's kind
        {"kind": "help"},  # the SMS path's own (reaches opted-out numbers)
        {"kind": "agent"},
        {"body": "  "},
        {"idempotency_key": ""},
    ]
    for override in bad:
        values = {
            "phone": ALEX,
            "kind": "survey",
            "body": "hi",
            "idempotency_key": "k",
            **override,
        }
        with pytest.raises(service.OutboundRequestError):
            with session_scope() as session:
                service.request_text(session, settings(database_url), now=NOON, **values)
    with session_scope() as session:
        assert session.execute(select(func.count()).select_from(OutboundText)).scalar() == 0


def test_a_due_text_is_released_once_and_follows_the_outbox(database_url: str) -> None:
    text = schedule_for_later(database_url, ALEX)
    loop = ReleaseLoop(settings(database_url), lambda rows: None)
    assert loop.release_round() == []  # not due yet
    with session_scope() as session:
        session.get(OutboundText, text.id).not_before = dt.datetime.utcnow()
    (row,) = loop.release_round()
    assert loop.release_round() == []
    assert get(text.id).status == "queued" and get(text.id).outbox_id == row.id
    with session_scope() as session:
        (claimed,) = outbox.claim_due(session)
        outbox.mark_sent(session, claimed.id, "uuid-1")
    assert get(text.id).status == "sent"
    with session_scope() as session:
        outbox.apply_status_callback(session, "uuid-1", "delivered", None)
    assert get(text.id).status == "delivered"
    failed = request(database_url, SAM, "stay-2", NOON)
    with session_scope() as session:
        (claimed,) = outbox.claim_due(session)
        outbox.mark_failed(session, claimed.id, "invalid destination", "10")
    assert (get(failed.id).status, get(failed.id).error_code) == ("failed", "10")


def test_stop_while_scheduled_suppresses_at_release(database_url: str) -> None:
    text = schedule_for_later(database_url, ALEX)
    with session_scope() as session:
        set_opted_out(session, ALEX, True)
        session.get(OutboundText, text.id).not_before = dt.datetime.utcnow()
    assert ReleaseLoop(settings(database_url), lambda rows: None).release_round() == []
    released = get(text.id)
    assert (released.status, released.suppress_reason) == (
        "suppressed",
        "opted_out_while_scheduled",
    )
    assert outbox_rows(ALEX) == []


def test_stop_while_in_the_outbox_shows_as_suppressed(database_url: str) -> None:
    text = request(database_url, ALEX, "stay-1", NOON)
    with session_scope() as session:
        set_opted_out(session, ALEX, True)
    with session_scope() as session:
        assert outbox.claim_due(session) == []
    found = get(text.id)
    assert (found.status, found.suppress_reason) == ("suppressed", "opted_out_before_send")


def test_concurrent_releasers_queue_each_text_once(database_url: str) -> None:
    """Four threads release 30 due texts at once (PostgreSQL: SKIP LOCKED batches; SQLite:
    one writer): every text reaches the outbox exactly once."""
    phones = [f"+1555010{i:04d}" for i in range(30)]
    ids = [schedule_for_later(database_url, phone, f"stay-{phone}").id for phone in phones]
    with session_scope() as session:
        for text_id in ids:
            session.get(OutboundText, text_id).not_before = dt.datetime.utcnow()
    loops = [ReleaseLoop(settings(database_url), lambda rows: None) for _ in range(4)]
    released: List[int] = []
    errors: List[BaseException] = []
    start = threading.Barrier(len(loops))

    def run(loop: ReleaseLoop) -> None:
        start.wait()
        try:
            for _ in range(5):
                released.extend(row.id for row in loop.release_round())
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(loop,)) for loop in loops]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(released) == len(set(released)) == 30
    with session_scope() as session:
        rows = session.execute(select(OutboxMessage.phone)).scalars().all()
    assert sorted(rows) == sorted(phones)
    assert {get(text_id).status for text_id in ids} == {"queued"}


def test_batch_progress(database_url: str) -> None:
    with session_scope() as session:
        set_opted_out(session, JORDAN, True)
    for phone in (ALEX, SAM, PRIYA, JORDAN):
        request(database_url, phone, f"promo-{phone}", NOON, kind="notification", batch="b1")
    with session_scope() as session:
        (claimed, *_) = outbox.claim_due(session)
        outbox.mark_sent(session, claimed.id, "uuid-b1")
        progress = service.batch_progress(session, "b1")
    assert progress == {
        "scheduled": 0,
        "queued": 2,
        "sent": 1,
        "delivered": 0,
        "failed": 0,
        "suppressed": 1,
        "total": 4,
    }


def test_an_unknown_stored_timezone_falls_back_and_is_logged(database_url: str) -> None:
    with session_scope() as session:
        session.execute(
            update(Customer).where(Customer.phone == ALEX).values(timezone="Mars/Olympus")
        )
    # A handler on the service's own logger: Rasa, loaded in this process by other tests,
    # reconfigures the root logger, so pytest's caplog cannot be relied on here.
    logger = logging.getLogger("bot.outbound.service")
    records: List[logging.LogRecord] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append  # type: ignore[method-assign]
    logger.addHandler(handler)
    level, logger.level = logger.level, logging.WARNING
    try:
        text = request(database_url, ALEX, "stay-1", LATE)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert text.status == "scheduled"  # New York's night
    assert any("unknown timezone 'Mars/Olympus'" in r.getMessage() for r in records)


def test_racing_requests_with_one_key_make_one_text(database_url: str) -> None:
    """Six threads request the same (kind, key) at once: one row, one outbox row, and
    every caller gets that text."""
    results: List[int] = []
    errors: List[BaseException] = []
    start = threading.Barrier(6)

    def run() -> None:
        start.wait()
        try:
            results.append(request(database_url, ALEX, "race-1", NOON).id)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == 6 and len(set(results)) == 1
    assert len(outbox_rows(ALEX)) == 1
