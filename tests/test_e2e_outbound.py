"""Outbound texts with real processes: the SMS receiver and worker(s) running (no
assistant needed), the Plivo stand-in receiving. Quiet hours survive a kill -9 of the
worker, opted-out numbers get nothing, two workers never send a scheduled text twice, and
a list to one number goes out at the configured rate."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Callable, List
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from bot.launcher import DEFAULT_MODEL
from bot.outbound import service
from bot.settings import Settings
from bot.store.customers import set_opted_out
from bot.store.db import session_scope
from bot.store.models import OutboundText
from bot.store.seed import ALEX, JORDAN, SAM
from tests.sms_harness import SmsSetup

pytestmark = pytest.mark.slow

TZ = "America/New_York"


def quiet_window_around_now() -> str:
    """QUIET_HOURS covering the current local time (an hour back, two ahead)."""
    now = dt.datetime.now(ZoneInfo(TZ))
    start, end = now - dt.timedelta(hours=1), now + dt.timedelta(hours=2)
    return f"{start:%H:%M}-{end:%H:%M}"


def sms_side(database_url: str, tmp_path: Path, **options: object) -> SmsSetup:
    env = {"OUTBOUND_POLL_SECONDS": "0.3", **options.pop("extra_env", {})}  # type: ignore[dict-item]
    return SmsSetup(
        database_url, DEFAULT_MODEL, tmp_path, assistant=False, extra_env=env, **options
    ).start()


def request(database_url: str, phone: str, key: str, **options: object) -> service.OutboundView:
    settings = Settings(
        database_url=database_url,
        business_tz=TZ,
        quiet_hours=str(options.pop("quiet_hours", quiet_window_around_now())),
    )
    with session_scope() as session:
        return service.request_text(
            session,
            settings,
            phone=phone,
            kind=str(options.pop("kind", "survey")),
            body=str(options.pop("body", "How was your stay? Reply 1-5.")),
            idempotency_key=key,
            **options,
        )


def due_in(seconds: float, *text_ids: int) -> None:
    """Move scheduled texts' time to `seconds` from now (as if the quiet hours ended)."""
    when = dt.datetime.utcnow() + dt.timedelta(seconds=seconds)
    with session_scope() as session:
        session.execute(
            update(OutboundText).where(OutboundText.id.in_(text_ids)).values(not_before=when)
        )


def status(text_id: int) -> service.OutboundView:
    with session_scope() as session:
        found = service.get_text(session, text_id)
    assert found is not None
    return found


def wait_for(check: Callable[[], bool], timeout: float = 30, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_quiet_hours_survive_a_killed_worker_and_send_once(
    database_url: str, tmp_path: Path
) -> None:
    setup = sms_side(database_url, tmp_path)
    assert setup.stack is not None
    try:
        text = request(database_url, ALEX, "stay-e2e")
        assert text.status == "scheduled" and text.not_before is not None
        assert text.not_before > dt.datetime.utcnow() + dt.timedelta(minutes=100)
        time.sleep(1.5)  # several release rounds: nothing is due
        assert setup.sent(ALEX) == []
        setup.stack.kill("worker-1")  # kill -9
        due_in(1.5, text.id)  # the quiet hours end in 1.5 s
        setup.stack.restart("worker-1")
        assert setup.wait_replies(ALEX, 1, timeout=30) == ["How was your stay? Reply 1-5."]
        wait_for(lambda: status(text.id).status == "delivered", what="the delivery report")
        time.sleep(2)  # more release rounds, of a restarted worker: still once
        assert len(setup.sent(ALEX)) == 1
    finally:
        setup.stop()


def test_opted_out_numbers_get_nothing(database_url: str, tmp_path: Path) -> None:
    """Opted out before: suppressed at once. STOP while scheduled: suppressed when due.
    The stand-in receives only the opt-out confirmation."""
    with session_scope() as session:
        set_opted_out(session, JORDAN, True)
    setup = sms_side(database_url, tmp_path)
    try:
        before = request(database_url, JORDAN, "nps-1", kind="nps", quiet_hours="off")
        assert (before.status, before.suppress_reason) == ("suppressed", "opted_out")
        scheduled = request(database_url, SAM, "stay-sam")
        assert scheduled.status == "scheduled"
        (confirmation,) = [setup.ask(SAM, "STOP")]
        assert "unsubscribed" in confirmation
        due_in(0, scheduled.id)
        wait_for(lambda: status(scheduled.id).status == "suppressed", what="suppressed at release")
        assert status(scheduled.id).suppress_reason == "opted_out_while_scheduled"
        time.sleep(1.5)
        assert setup.sent(JORDAN) == []
        assert [m["text"] for m in setup.sent(SAM)] == [confirmation]
    finally:
        setup.stop()


@pytest.mark.postgres
def test_two_workers_never_send_a_scheduled_text_twice(database_url: str, tmp_path: Path) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several workers need PostgreSQL (SQLite runs one)")
    setup = sms_side(database_url, tmp_path, workers=2)
    try:
        phones = [f"+1555020{i:04d}" for i in range(24)]
        ids = [request(database_url, phone, f"stay-{phone}").id for phone in phones]
        due_in(1.0, *ids)  # both workers poll every 0.3 s: they race for these
        for phone in phones:
            setup.wait_replies(phone, 1, timeout=60)
        time.sleep(2)
        assert {phone: len(setup.sent(phone)) for phone in phones} == {p: 1 for p in phones}
        assert {status(i).status for i in ids} <= {"sent", "delivered"}
    finally:
        setup.stop()


def test_a_list_to_one_number_goes_out_at_the_configured_rate(
    database_url: str, tmp_path: Path
) -> None:
    rate, count = 2.0, 8  # under the outbox's own pace for one phone (a claim per 0.5 s)
    setup = sms_side(database_url, tmp_path, extra_env={"SMS_RATE_PER_SECOND": str(rate)})
    try:
        ids: List[int] = []
        for n in range(count):
            text = request(
                database_url,
                ALEX,
                f"list-{n}",
                kind="notification",
                body=f"Update {n + 1} of {count}",
                batch="list-1",
                quiet_hours="off",
            )
            assert text.status == "queued"
            ids.append(text.id)
        sent = [None]

        def all_sent() -> bool:
            sent[0] = setup.sent(ALEX)
            return len(sent[0]) >= count

        wait_for(all_sent, timeout=60, what=f"{count} texts")
        messages = sent[0]
        assert [m["text"] for m in messages] == [f"Update {n + 1} of {count}" for n in range(count)]
        times = [dt.datetime.fromisoformat(m["time"]) for m in messages]
        span = (times[-1] - times[0]).total_seconds()
        expected = (count - 1) / rate
        assert expected * 0.9 <= span <= expected + 1.5, span  # paced at the rate, no slower
        with session_scope() as session:
            progress = service.batch_progress(session, "list-1")
        assert progress["total"] == count
        assert progress["sent"] + progress["delivered"] == count, progress
        print(f"{count} texts to one number at {rate}/s: first to last {span:.2f} s")
    finally:
        setup.stop()


def test_a_worker_killed_while_sending_released_texts_sends_each_once(
    database_url: str, tmp_path: Path
) -> None:
    """kill -9 of the worker while it sends texts it just released (some sent, some in
    flight, some still queued), then restarted: every text goes out exactly once. A text
    that was in flight waits out the outbox's lease and is checked against Plivo's message
    list before any resend."""
    setup = sms_side(database_url, tmp_path, extra_env={"SMS_RATE_PER_SECOND": "5"})
    assert setup.stack is not None
    try:
        phones = [f"+1555030{i:04d}" for i in range(15)]
        ids = [request(database_url, phone, f"stay-{phone}").id for phone in phones]
        due_in(0, *ids)
        wait_for(lambda: any(setup.sent(p) for p in phones), what="the first send")
        time.sleep(0.8)
        setup.stack.kill("worker-1")
        sent_before = sum(1 for p in phones if setup.sent(p))
        assert 0 < sent_before < len(phones), "the kill came too late to prove anything"
        setup.stack.restart("worker-1")
        for phone in phones:
            setup.wait_replies(phone, 1, timeout=120)
        time.sleep(2)
        assert {p: len(setup.sent(p)) for p in phones} == {p: 1 for p in phones}
        assert {status(i).status for i in ids} <= {"sent", "delivered"}
        print(f"killed after {sent_before} of {len(phones)} sends; each sent once after restart")
    finally:
        setup.stop()
