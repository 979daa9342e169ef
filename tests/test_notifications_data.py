"""The notification data layer on SQLite and PostgreSQL: a call's texts and its idempotency
record, the order context of replies (only once the text was sent), the supervisor's
figures, and two racing calls with one key writing one call."""

from __future__ import annotations

import datetime as dt
import threading
from typing import List

import pytest
from sqlalchemy import func, select, update

from bot.desk.notification_figures import notification_figures
from bot.outbound.notifications import (
    NotifyProblem,
    fingerprint,
    notify,
    order_text,
    set_order_status,
)
from bot.outbound.templates import ALL_TEMPLATES, load_templates
from bot.settings import Settings
from bot.sms import outbox
from bot.sms.segments import sms_info
from bot.store.db import session_scope
from bot.store.models import (
    Customer,
    Message,
    NotificationRequest,
    Order,
    OutboundText,
    OutboxMessage,
)
from bot.store.orders import arrival_time, notified_order_for_phone
from bot.store.seed import ALEX
from tests.desk.helpers import customer_texts

BODY = {"to": ALEX, "template": "order_shipped", "order": "A1001", "idempotency_key": "k"}


def settings(url: str) -> Settings:
    return Settings(database_url=url, quiet_hours="off")


def call(url: str, body: dict = BODY, token: str = "t" * 20) -> dict:
    templates = load_templates(Settings().business_name, required=ALL_TEMPLATES)
    with session_scope(url) as session:
        return notify(session, settings(url), templates, fingerprint(token), body)[0]


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def test_reply_context_figures_and_idempotency(database_url: str) -> None:
    answer = call(database_url)
    (item,) = answer["notifications"]
    assert item["status"] == "queued"
    with session_scope(database_url) as session:
        assert notified_order_for_phone(session, ALEX, None, now()) is None  # not sent yet
        row_id = session.execute(
            select(OutboundText.outbox_id).where(OutboundText.id == item["id"])
        ).scalar_one()
        outbox.mark_sent(session, row_id, "uuid-1")
    with session_scope(database_url) as session:
        assert notified_order_for_phone(session, ALEX, None, now()) == "A1001"
        later = now() + dt.timedelta(seconds=5)
        assert notified_order_for_phone(session, ALEX, later, later) is None  # texted since
        day_later = now() + dt.timedelta(hours=25)
        assert notified_order_for_phone(session, ALEX, None, day_later) is None
        figures = notification_figures(session)
    assert figures["total"]["sent"] == 1 and figures["total"]["replied"] == 0
    customer_texts(database_url, ALEX, "TRACK")
    with session_scope(database_url) as session:
        session.execute(update(OutboxMessage).values(status="delivered"))
    with session_scope(database_url) as session:
        figures = notification_figures(session)
    assert {k: figures["total"][k] for k in ("requested", "sent", "delivered", "replied")} == {
        "requested": 1,
        "sent": 1,
        "delivered": 1,
        "replied": 1,
    }
    assert call(database_url)["notifications"][0]["id"] == item["id"]  # same key: same text
    with pytest.raises(NotifyProblem) as refused:
        call(database_url, {**BODY, "order": "A1002"})
    assert refused.value.status == 409


@pytest.mark.postgres
def test_two_calls_racing_with_one_key_write_one(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("a real race needs PostgreSQL")
    answers: List[dict] = []
    errors: List[BaseException] = []

    def one() -> None:
        try:
            answers.append(call(database_url))
        except BaseException as problem:  # noqa: BLE001 - reported below
            errors.append(problem)

    threads = [threading.Thread(target=one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len({a["notifications"][0]["id"] for a in answers}) == 1
    with session_scope(database_url) as session:
        assert session.execute(select(func.count(NotificationRequest.id))).scalar_one() == 1
        assert session.execute(select(func.count(OutboundText.id))).scalar_one() == 1


def test_track_is_a_whole_message_keyword() -> None:
    from bot.rasa_ext.keywords import match_keyword

    assert match_keyword("TRACK") == ("track_order", None)
    assert match_keyword(" track. ") == ("track_order", None)
    assert match_keyword("track my parcel please") is None  # the classifier's job


def test_booking_templates_take_the_numbers_own_request(database_url: str) -> None:
    from bot.store.models import BookingRequest, Customer

    with session_scope(database_url) as session:
        booking, phone = session.execute(
            select(BookingRequest.id, Customer.phone).join(Customer).limit(1)
        ).one()
        other = session.execute(select(Customer.phone).where(Customer.phone != phone)).scalar()
    body = {"to": phone, "template": "booking_reminder", "request": f"R{booking}"}
    answer = call(database_url, {**body, "idempotency_key": "remind"})
    assert answer["notifications"][0]["status"] == "queued"
    with session_scope(database_url) as session:
        text = session.execute(select(OutboundText.body)).scalar_one()
    assert f"R{booking}" in text and "starts" in text
    with pytest.raises(NotifyProblem) as refused:
        call(database_url, {**body, "to": other, "idempotency_key": "other"})
    assert refused.value.status == 422


def _arrived(url: str, phone: str, text: str, at: dt.datetime) -> str:
    """An inbound text recorded at `at` (naive UTC); its provider UUID."""
    from bot.sms import inbound

    provider_uuid = f"in-{at.timestamp()}"
    with session_scope(url) as session:
        message_id = inbound.record_inbound(session, phone, text, provider_uuid)
        session.execute(update(Message).where(Message.id == message_id).values(created_at=at))
        inbound.finish_inbound(session, message_id, inbound.PROCESSED)
    return provider_uuid


def test_a_reply_refers_to_what_left_before_it_arrived(database_url: str) -> None:
    """The bound is the text's arrival time: a notification that left after a text arrived
    (while it waited in the queue) is not what that text replies to; an order the
    conversation settled on after the notification left wins over it."""
    start = now()
    first = _arrived(database_url, ALEX, "hi", start - dt.timedelta(minutes=10))
    (item,) = call(database_url)["notifications"]
    with session_scope(database_url) as session:
        row_id = session.execute(
            select(OutboundText.outbox_id).where(OutboundText.id == item["id"])
        ).scalar_one()
        outbox.mark_sent(session, row_id, "uuid-window")
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id)
            .values(sent_at=start - dt.timedelta(minutes=5))
        )
    early = _arrived(database_url, ALEX, "where is it?", start - dt.timedelta(minutes=7))
    late = _arrived(database_url, ALEX, "TRACK", start - dt.timedelta(minutes=1))
    with session_scope(database_url) as session:
        assert arrival_time(session, ALEX, "no-such-uuid") is None
        assert arrival_time(session, ALEX, first) == start - dt.timedelta(minutes=10)
        arrived = arrival_time(session, ALEX, late)
        assert arrived == start - dt.timedelta(minutes=1)
        assert notified_order_for_phone(session, ALEX, None, arrived) == "A1001"
        settled_before = start - dt.timedelta(minutes=6)
        assert notified_order_for_phone(session, ALEX, settled_before, arrived) == "A1001"
        settled_after = start - dt.timedelta(minutes=4)
        assert notified_order_for_phone(session, ALEX, settled_after, arrived) is None
        # the text that arrived before the notification left does not refer to it
        arrived = arrival_time(session, ALEX, early)
        assert arrived == start - dt.timedelta(minutes=7)
        assert notified_order_for_phone(session, ALEX, None, arrived) is None


def test_an_order_is_settled_by_a_turn_not_by_a_new_session_carrying_it_over() -> None:
    from rasa_sdk import Tracker

    from actions.track_order import order_settled_at

    def tracker(events: List[dict]) -> Tracker:
        return Tracker("+15550001", {}, {}, events, False, None, {}, "action_listen")

    asked, carried = 1_800_000_000.0, 1_800_090_000.0
    turn = [
        {"event": "user", "timestamp": asked - 1, "text": "where is A1?"},
        {"event": "slot", "timestamp": asked, "name": "order_number", "value": "A1"},
    ]
    new_session = [
        {"event": "action", "timestamp": carried, "name": "action_session_start"},
        {"event": "session_started", "timestamp": carried},
        {"event": "slot", "timestamp": carried, "name": "order_number", "value": "A1"},
        {"event": "user", "timestamp": carried + 1, "text": "TRACK"},
    ]
    expected = dt.datetime(2027, 1, 15, 8, 0)  # 1_800_000_000 s, naive UTC
    assert order_settled_at(tracker([])) is None
    assert order_settled_at(tracker(turn)) == expected
    assert order_settled_at(tracker(turn + new_session)) == expected
    other = {"event": "slot", "timestamp": carried + 2, "name": "order_number", "value": "B2"}
    assert order_settled_at(tracker(turn + new_session + [other])) > expected


def test_an_emoji_carrier_is_refused_and_the_order_is_unchanged(database_url: str) -> None:
    templates = load_templates(Settings().business_name, required=ALL_TEMPLATES)
    change = {"status": "delivered", "carrier": "DHL \u2708\ufe0f", "tracking": "JD1"}
    with pytest.raises(NotifyProblem) as refused:
        with session_scope(database_url) as session:
            set_order_status(session, settings(database_url), templates, "A1001", change)
    assert refused.value.status == 400 and "carrier" in refused.value.message
    with session_scope(database_url) as session:
        order = session.execute(select(Order).where(Order.number == "A1001")).scalar_one()
        assert order.carrier != change["carrier"] and order.status != "delivered"
        assert session.execute(select(func.count()).select_from(OutboundText)).scalar() == 0


def test_first_names_are_folded_to_gsm7_or_become_there(database_url: str) -> None:
    """A name outside GSM-7 would make the whole text UCS-2: it is folded ("Zoë" -> "Zoe"),
    and one with no GSM-7 form is left out."""
    templates = load_templates(Settings().business_name, required=ALL_TEMPLATES)
    with session_scope(database_url) as session:
        customer = session.execute(select(Customer).where(Customer.phone == ALEX)).scalar_one()
        order = session.execute(select(Order).where(Order.number == "A1001")).scalar_one()
        order.carrier, order.tracking_number = "UPS", "1Z" + "9" * 30
        customer.name = "Alex"
        assert "hi Alex," in order_text(templates, "order_shipped", order, customer)
        customer.name = "Zoë Müller"  # folded to GSM-7, as the bot's own replies are
        folded = order_text(templates, "order_shipped", order, customer)
        assert "hi Zoe," in folded and sms_info(folded).encoding == "GSM-7", folded
        customer.name = "Στέφανος Παπαδόπουλος"
        text = order_text(templates, "order_shipped", order, customer)
    assert "hi there," in text and sms_info(text).segments <= 2, text


def test_a_reply_counts_within_24_hours_after_the_text_left(database_url: str) -> None:
    """Replied: the customer's first text after a notification left, if within 24 hours;
    a text before it left, or one 25 hours after, is no reply to it."""
    start = now()
    sent_at = {"A1001": start - dt.timedelta(hours=50), "A1002": start - dt.timedelta(hours=20)}
    for number, at in sent_at.items():
        (item,) = call(database_url, {**BODY, "order": number, "idempotency_key": number})[
            "notifications"
        ]
        with session_scope(database_url) as session:
            row_id = session.execute(
                select(OutboundText.outbox_id).where(OutboundText.id == item["id"])
            ).scalar_one()
            outbox.mark_sent(session, row_id, f"uuid-{number}")
            session.execute(
                update(OutboxMessage).where(OutboxMessage.id == row_id).values(sent_at=at)
            )
    _arrived(database_url, ALEX, "hello?", start - dt.timedelta(hours=51))  # before both
    _arrived(database_url, ALEX, "ok", start - dt.timedelta(hours=25))  # A1001 + 25 h
    with session_scope(database_url) as session:
        total = notification_figures(session)["total"]
    assert (total["sent"], total["replied"]) == (2, 0)
    _arrived(database_url, ALEX, "TRACK", start - dt.timedelta(hours=19))  # A1002 + 1 h
    with session_scope(database_url) as session:
        total = notification_figures(session)["total"]
    assert (total["sent"], total["replied"]) == (2, 1)
