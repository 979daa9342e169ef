"""The notification API with real processes: the console's server (port of the desk)
takes the calls, the SMS worker sends through the Plivo stand-in. Token refusal,
idempotency (also across a restart of the console), consent, quiet hours surviving a
restart, a list paced at the number's rate, order status changes texting once, and the
refusals (422 for another customer's order, 400 for a bad body)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from pathlib import Path
from typing import List

import pytest
from sqlalchemy import func, select, update

from bot.launcher import DEFAULT_MODEL, child_env
from bot.settings import PROJECT_ROOT
from bot.store.customers import set_opted_out
from bot.store.db import session_scope
from bot.store.models import Customer, NotificationRequest, Order, OutboundText, OutboxMessage
from bot.store.seed import ALEX, SAM
from tests.desk.server import DeskServer
from tests.notify_api import OTHER_TOKEN, TOKEN, api
from tests.sms_harness import SmsSetup
from tests.test_e2e_outbound import due_in, status, wait_for

# The API end to end on SQLite; the same data layer on PostgreSQL (idempotency races
# included) is tests/test_notifications_data.py.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

TRACKING = "1Z999AA10123456784"


def zone_at(hours: tuple) -> str:
    """A fixed-offset zone where the local hour is one of `hours` now."""
    utc_hour = dt.datetime.now(dt.timezone.utc).hour
    for offset in range(-12, 15):
        if (utc_hour + offset) % 24 in hours:
            # Etc/GMT signs are inverted: Etc/GMT-3 is UTC+3
            return "UTC" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"
    raise AssertionError("no zone found")


class Notify:
    """The SMS side (no assistant needed) and a console with API tokens."""

    def __init__(self, database_url: str, tmp_path: Path, rate: str = "200") -> None:
        env = {"OUTBOUND_POLL_SECONDS": "0.3", "SMS_RATE_PER_SECOND": rate}
        self.sms = SmsSetup(
            database_url, DEFAULT_MODEL, tmp_path, assistant=False, extra_env=env
        ).start()
        self.desk_env = {
            "NOTIFY_API_TOKENS": f"{TOKEN},{OTHER_TOKEN}",
            "QUIET_HOURS": "21:00-08:00",
            "BUSINESS_TZ": zone_at((11, 12, 13)),  # midday: customers without a zone
        }
        self.desk = DeskServer(database_url, tmp_path, extra_env=self.desk_env).start()

    def post(self, body: object, token: str = TOKEN) -> tuple:
        return api(self.desk.url, "POST", "/api/v1/notifications", body, token=token)

    def get(self, path: str, token: str = TOKEN) -> tuple:
        return api(self.desk.url, "GET", path, token=token)

    def stop(self) -> None:
        self.desk.stop()
        self.sms.stop()


@pytest.fixture
def notify(database_url: str, tmp_path: Path):  # noqa: ANN201
    running = Notify(database_url, tmp_path)
    yield running
    running.stop()


def shipped(to: object = ALEX, key: str = "ship-A1001", order: str = "A1001") -> dict:
    return {"to": to, "template": "order_shipped", "order": order, "idempotency_key": key}


def counts() -> tuple:
    with session_scope() as session:
        texts = session.execute(select(func.count(OutboundText.id))).scalar_one()
        calls = session.execute(select(func.count(NotificationRequest.id))).scalar_one()
        outbox = session.execute(select(func.count(OutboxMessage.id))).scalar_one()
    return texts, calls, outbox


def test_a_wrong_or_missing_token_gets_401_and_nothing_is_sent(notify: Notify) -> None:
    before = counts()
    for token in (None, "", "wrong-token-0123456789", TOKEN[:-1], TOKEN + "x"):
        code, answer = notify.post(shipped(), token=token)  # type: ignore[arg-type]
        assert code == 401 and "token" in answer["error"], (token, answer)
    code, _ = api(notify.desk.url, "GET", "/api/v1/notifications/1", token=None)
    assert code == 401
    code, _ = api(
        notify.desk.url,
        "POST",
        "/api/v1/orders/A1001/status",
        {"status": "delayed"},
        token="x" * 20,
    )
    assert code == 401
    # a session cookie is never a credential here
    code, _ = api(
        notify.desk.url,
        "POST",
        "/api/v1/notifications",
        shipped(),
        token=None,
        headers={"Cookie": "__Host-desk_session=anything", "X-CSRF-Token": "anything"},
    )
    assert code == 401
    time.sleep(1)
    assert counts() == before
    assert notify.sms.sent(ALEX) == []


def test_the_same_key_sends_once_also_after_a_restart_and_another_body_is_409(
    notify: Notify,
) -> None:
    code, first = notify.post(shipped())
    assert code == 202 and not first["replayed"]
    (item,) = first["notifications"]
    assert item["to"] == ALEX and item["template"] == "order_shipped"
    (text,) = notify.sms.wait_replies(ALEX, 1)
    assert "A1001" in text and "UPS" in text and TRACKING in text and "Reply TRACK" in text
    code, again = notify.post(shipped())
    assert code == 200 and again["replayed"]
    assert [n["id"] for n in again["notifications"]] == [item["id"]]
    code, conflict = notify.post(shipped(order="A1002"))
    assert code == 409 and "another body" in conflict["error"]
    # another token's key space: the same key is a new call there
    code, other = notify.post(shipped(key="other-key"), token=OTHER_TOKEN)
    assert code == 202
    notify.desk.stop()
    notify.desk.start()
    code, after = notify.post(shipped())
    assert code == 200 and [n["id"] for n in after["notifications"]] == [item["id"]]
    wait_for(lambda: len(notify.sms.sent(ALEX)) >= 2, what="the other token's text")
    time.sleep(1.5)
    assert len(notify.sms.sent(ALEX)) == 2  # one per token's call, never a repeat
    code, shown = notify.get(f"/api/v1/notifications/{item['id']}")
    assert code == 200 and shown["status"] in ("sent", "delivered")
    # another token's call: not there to read, one by one or as a list
    assert notify.get(f"/api/v1/notifications/{item['id']}", token=OTHER_TOKEN)[0] == 404
    assert notify.get(f"/api/v1/notifications?batch={shown['batch']}")[0] == 200
    assert notify.get(f"/api/v1/notifications?batch={shown['batch']}", OTHER_TOKEN)[0] == 404
    wait_for(
        lambda: notify.get(f"/api/v1/notifications/{item['id']}")[1]["status"] == "delivered",
        what="delivered",
    )
    with session_scope() as session:
        stored = session.execute(select(NotificationRequest.token_fingerprint)).scalars().all()
    assert TOKEN not in stored and all(len(f) == 64 for f in stored)


def test_an_opted_out_customer_is_suppressed_with_the_reason(notify: Notify) -> None:
    with session_scope() as session:
        set_opted_out(session, ALEX, True)
    code, answer = notify.post(shipped())
    assert code == 202
    (item,) = answer["notifications"]
    assert (item["status"], item["reason"]) == ("suppressed", "opted_out")
    code, shown = notify.get(f"/api/v1/notifications/{item['id']}")
    assert (shown["status"], shown["reason"]) == ("suppressed", "opted_out")
    time.sleep(1.5)
    assert notify.sms.sent(ALEX) == []


def test_quiet_hours_defer_and_survive_restarts_then_send_once(notify: Notify) -> None:
    zone = zone_at((23, 0, 1))  # night, where this customer lives
    with session_scope() as session:
        session.execute(update(Customer).where(Customer.phone == ALEX).values(timezone=zone))
    code, answer = notify.post(shipped(key="night"))
    assert code == 202
    (item,) = answer["notifications"]
    assert item["status"] == "scheduled", (zone, item)
    assert item["not_before"] > dt.datetime.utcnow().isoformat()
    time.sleep(1.5)
    assert notify.sms.sent(ALEX) == []
    assert notify.sms.stack is not None
    notify.sms.stack.kill("worker-1")
    notify.desk.stop()
    notify.desk.start()
    due_in(1.0, item["id"])  # the night ends in a second
    notify.sms.stack.restart("worker-1")
    assert "A1001" in notify.sms.wait_replies(ALEX, 1)[0]
    wait_for(lambda: status(item["id"]).status == "delivered", what="delivered")
    time.sleep(2)
    assert len(notify.sms.sent(ALEX)) == 1


def test_another_customers_order_is_422_and_nothing_is_sent(notify: Notify) -> None:
    before = counts()
    code, answer = notify.post(shipped(to=SAM))
    assert code == 422 and "A1001" in answer["error"]
    code, answer = notify.post(shipped(to=[ALEX, SAM], key="list"))  # one bad: none sent
    assert code == 422
    code, answer = notify.post(shipped(order="Z9999", key="unknown"))
    assert code == 422
    for bad in (
        {**shipped(), "template": "order_lost"},
        {**shipped(), "to": "not a phone"},
        {"to": ALEX, "template": "order_shipped", "idempotency_key": "no-order"},
        {**shipped(), "request": "R1"},
        {**shipped(), "colour": "red"},
    ):
        code, answer = notify.post(bad)
        assert code == 400, (bad, answer)
    code, _ = api(notify.desk.url, "POST", "/api/v1/notifications", raw=b"{not json")
    assert code == 400
    time.sleep(1)
    assert counts() == before
    assert notify.sms.sent(ALEX) == [] and notify.sms.sent(SAM) == []


def test_an_order_status_change_texts_exactly_once(notify: Notify) -> None:
    path = "/api/v1/orders/A1002/status"
    change = {"status": "shipped", "carrier": "FedEx", "tracking": "794698765999"}
    code, first = api(notify.desk.url, "POST", path, change)
    assert code == 200 and first["changed"] and first["notification"]["status"] == "queued"
    code, second = api(notify.desk.url, "POST", path, change)
    assert code == 200 and not second["changed"] and second["notification"] is None
    (text,) = notify.sms.wait_replies(ALEX, 1)
    assert "A1002" in text and "FedEx" in text and "794698765999" in text
    # the command line does the same, once
    command = [sys.executable, "-m", "bot", "orders", "set-status", "A1002", "delivered"]
    # the same settings as the console's server (quiet hours end at midday's zone)
    env = child_env({**notify.desk_env, "DATABASE_URL": notify.desk.database_url})
    for _ in range(2):
        done = subprocess.run(command, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    texts = notify.sms.wait_replies(ALEX, 2)
    assert "A1002 was delivered" in texts[1]
    time.sleep(1.5)
    assert len(notify.sms.sent(ALEX)) == 2
    with session_scope() as session:
        order = session.execute(select(Order).where(Order.number == "A1002")).scalar_one()
        assert (order.status, order.carrier) == ("delivered", "FedEx")
    code, _ = api(notify.desk.url, "POST", "/api/v1/orders/Z9999/status", change)
    assert code == 404
    code, _ = api(notify.desk.url, "POST", path, {"status": "lost"})
    assert code == 400


def test_the_notify_command_wraps_the_api(notify: Notify) -> None:
    command = [sys.executable, "-m", "bot", "notify", "--to", ALEX, "--template"]
    command += ["order_shipped", "--order", "A1001", "--key", "cli-1", "--url", notify.desk.url]
    env = child_env({"DATABASE_URL": notify.desk.database_url, "NOTIFY_API_TOKENS": TOKEN})
    for _ in range(2):
        done = subprocess.run(command, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
        assert '"order_shipped"' in done.stdout
    notify.sms.wait_replies(ALEX, 1)
    time.sleep(1.5)
    assert len(notify.sms.sent(ALEX)) == 1


def test_a_list_leaves_at_the_numbers_rate_and_reports_progress(
    database_url: str, tmp_path: Path
) -> None:
    rate, count = 2.0, 6
    phones = [f"+1555066{n:04d}" for n in range(count)]
    with session_scope() as session:
        for n, phone in enumerate(phones):
            customer = Customer(phone=phone, name=f"Guest {n}")
            session.add(customer)
            session.flush()
            session.add(
                Order(
                    number=f"L{7000 + n}",
                    customer_id=customer.id,
                    status="delayed",
                    eta=dt.date.today() + dt.timedelta(days=3),
                )
            )
    running = Notify(database_url, tmp_path, rate=str(rate))
    try:
        body = {
            "to": [{"phone": p, "order": f"L{7000 + n}"} for n, p in enumerate(phones)],
            "template": "order_delayed",
            "idempotency_key": "delays-1",
        }
        code, answer = running.post(body)
        assert code == 202 and len(answer["notifications"]) == count
        batch = answer["batch"]
        sent: List[dict] = []

        def all_sent() -> bool:
            sent[:] = [m for p in phones for m in running.sms.sent(p)]
            return len(sent) >= count

        wait_for(all_sent, timeout=60, what=f"{count} texts")
        times = sorted(dt.datetime.fromisoformat(m["time"]) for m in sent)
        span = (times[-1] - times[0]).total_seconds()
        expected = (count - 1) / rate
        assert expected * 0.9 <= span <= expected + 1.5, span
        assert all("delayed" in m["text"] for m in sent)
        code, progress = running.get(f"/api/v1/notifications?batch={batch}")
        assert code == 200 and progress["progress"]["total"] == count
        done = progress["progress"]["sent"] + progress["progress"]["delivered"]
        assert done == count, progress
        print(f"{count} notifications at {rate}/s: first to last {span:.2f} s")
    finally:
        running.stop()
