"""The Requests API against a running console and a real database: filters, confirm and
decline with a note (history + exactly one outcome text through the outbound service),
edits (history, no text), sign-in and CSRF, and an opted-out customer."""

from __future__ import annotations

import datetime as dt
from typing import Callable, List

import pytest
from sqlalchemy import func, select

from bot.settings import Settings
from bot.store.booking_history import HistoryEntry, history_of
from bot.store.bookings import BookingView, cancel_request_for_phone, create_booking_request
from bot.store.customers import get_or_create_customer, set_opted_out, set_timezone
from bot.store.db import session_scope
from bot.store.models import BookingRequest, OutboundText, OutboxMessage
from bot.store.seed import SAM
from bot.text.stay_span import booking_span
from tests.desk.client import DeskClient
from tests.desk.conftest import People
from tests.desk.server import DeskServer

TODAY = dt.date.today()
BUSINESS = Settings().business_name


def span(booking: BookingView) -> str:
    return booking_span(booking.check_in, booking.check_out)


def daytime_zone() -> str:
    """A fixed-offset zone where it is early afternoon now (outside any quiet hours)."""
    hour = dt.datetime.now(dt.timezone.utc).hour
    offset = (13 - hour + 12) % 24 - 12  # -12..11 hours from UTC
    return "Etc/GMT" + (f"{-offset:+d}" if offset else "")  # Etc/GMT+5 is UTC-5


def new_request(
    url: str,
    phone: str,
    days_ahead: int = 30,
    nights: int = 2,
    guests: int = 2,
    name: str = "Robin Vale",
) -> BookingView:
    start = TODAY + dt.timedelta(days=days_ahead)
    with session_scope(url) as session:
        get_or_create_customer(session, phone).name = name
        set_timezone(session, phone, daytime_zone())
        return create_booking_request(
            session, phone, start, start + dt.timedelta(days=nights), guests, "king", None
        )


def history(url: str, request_id: int) -> List[HistoryEntry]:
    with session_scope(url) as session:
        return history_of(session, request_id)


def outcome_texts(url: str, phone: str) -> List[OutboundText]:
    with session_scope(url) as session:
        rows = list(
            session.execute(
                select(OutboundText)
                .where(OutboundText.phone == phone, OutboundText.kind == "request_outcome")
                .order_by(OutboundText.id)
            ).scalars()
        )
        session.expunge_all()
        return rows


def outbox_count(url: str, phone: str) -> int:
    with session_scope(url) as session:
        return session.execute(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.phone == phone)
        ).scalar_one()


def status_of(url: str, request_id: int) -> str:
    with session_scope(url) as session:
        return session.execute(
            select(BookingRequest.status).where(BookingRequest.id == request_id)
        ).scalar_one()


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
def test_filter_by_status_and_stay_dates(
    desk: DeskServer, people: People, signed_in: Callable[[str], DeskClient]
) -> None:
    url = desk.database_url
    early = new_request(url, "+15550070001", days_ahead=10, nights=3)  # stays days 10-13
    late = new_request(url, "+15550070002", days_ahead=40)
    gone = new_request(url, "+15550070003", days_ahead=12)
    with session_scope(url) as session:
        cancel_request_for_phone(session, "+15550070003", gone.id)
    alice = signed_in("alice")

    def ids(query: str) -> List[int]:
        response = alice.get("/api/requests" + query)
        assert response.status == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    every = ids("")
    assert {early.id, late.id, gone.id} <= set(every)
    requested = ids("?status=requested")
    assert early.id in requested and late.id in requested and gone.id not in requested
    assert ids("?status=cancelled") == [gone.id]
    # a range catches stays that overlap it, either end open
    day = lambda n: (TODAY + dt.timedelta(days=n)).isoformat()  # noqa: E731
    window = ids(f"?status=requested&from={day(12)}&to={day(20)}")
    assert early.id in window and late.id not in window
    assert late.id in ids(f"?from={day(35)}") and early.id not in ids(f"?from={day(35)}")
    assert ids(f"?status=requested&to={day(11)}") == [early.id]
    item = alice.get(f"/api/requests?status=requested&from={day(40)}").json()["items"]
    assert [(i["ref"], i["customer_name"], i["guests"], i["check_in"]) for i in item] == [
        (late.ref, "Robin Vale", 2, day(40))
    ]
    # bad filters are a clear 400
    assert alice.get("/api/requests?status=maybe").status == 400
    assert "date like" in alice.get("/api/requests?from=soon").json()["error"]
    assert alice.get(f"/api/requests?from={day(20)}&to={day(10)}").status == 400


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
def test_confirm_with_a_note_records_history_and_texts_once(
    desk: DeskServer, people: People, signed_in: Callable[[str], DeskClient]
) -> None:
    url = desk.database_url
    phone = "+15550070010"
    booking = new_request(url, phone)
    alice = signed_in("alice")
    response = alice.post(f"/api/requests/{booking.id}/confirm", {"note": "Room 12, it’s quiet"})
    assert response.status == 200, response.text
    data = response.json()
    assert data["request"]["status"] == "confirmed"
    assert data["text"]["status"] == "queued"
    assert data["text"]["body"] == (
        f"{BUSINESS}: your room request {booking.ref} (2 guests, {span(booking)}) is "
        "confirmed. Note: Room 12, it's quiet"
    )
    made, confirmed = history(url, booking.id)
    assert made.actor == "customer" and made.to_status == "requested"
    assert (confirmed.actor, confirmed.agent_id, confirmed.agent_name) == (
        "agent",
        people.alice.id,
        "Alice Moreno",
    )
    assert (confirmed.from_status, confirmed.to_status) == ("requested", "confirmed")
    assert confirmed.note == "Room 12, it's quiet"  # a curly apostrophe made plain (GSM-7)
    [text] = outcome_texts(url, phone)
    assert text.id == confirmed.outbound_text_id and text.outbox_id is not None
    assert text.idempotency_key == f"booking_request:{booking.id}:change:{confirmed.id}"
    assert text.body == data["text"]["body"]
    assert outbox_count(url, phone) == 1
    # confirming again changes nothing and texts nothing
    again = alice.post(f"/api/requests/{booking.id}/confirm", {"note": "Room 12"})
    assert again.status == 409 and again.json() == {"error": f"{booking.ref} is already confirmed"}
    bob_again = signed_in("bob").post(f"/api/requests/{booking.id}/confirm", {})
    assert bob_again.status == 409
    assert len(outcome_texts(url, phone)) == 1 and outbox_count(url, phone) == 1
    assert len(history(url, booking.id)) == 2
    # the detail shows the history with what became of the text
    detail = alice.get(f"/api/requests/{booking.id}").json()
    assert [h["to_status"] for h in detail["history"]] == ["requested", "confirmed"]
    assert detail["history"][1]["text_status"] in ("queued", "sent", "delivered")
    assert detail["history"][1]["agent_name"] == "Alice Moreno"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_decline_then_confirm_texts_each_outcome(
    desk: DeskServer, people: People, signed_in: Callable[[str], DeskClient]
) -> None:
    url = desk.database_url
    phone = "+15550070020"
    booking = new_request(url, phone, guests=1)
    sue = signed_in("sue")  # supervisors act on requests too
    declined = sue.post(f"/api/requests/{booking.id}/decline", {"note": "We are full that week"})
    assert declined.status == 200, declined.text
    assert declined.json()["request"]["status"] == "declined"
    assert declined.json()["text"]["body"] == (
        f"{BUSINESS}: sorry, your room request {booking.ref} (1 guest, {span(booking)}) "
        "can't be confirmed: We are full that week"
    )
    # a room came free: confirmed after all, without a note
    confirmed = sue.post(f"/api/requests/{booking.id}/confirm", {})
    assert confirmed.status == 200
    assert confirmed.json()["text"]["body"].endswith("is confirmed. See you soon!")
    bodies = [t.body for t in outcome_texts(url, phone)]
    assert len(bodies) == 2 and "can't be confirmed" in bodies[0] and "confirmed." in bodies[1]
    assert [(h.from_status, h.to_status, h.note) for h in history(url, booking.id)] == [
        (None, "requested", None),
        ("requested", "declined", "We are full that week"),
        ("declined", "confirmed", None),
    ]
    # a cancelled request is the customer's last word
    with session_scope(url) as session:
        assert cancel_request_for_phone(session, phone, booking.id) is not None
    late = sue.post(f"/api/requests/{booking.id}/decline", {})
    assert late.status == 409 and "cancelled" in late.json()["error"]
    assert len(outcome_texts(url, phone)) == 2
    assert sue.post("/api/requests/999999/confirm", {}).status == 404


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_note_that_would_make_the_text_costly_is_refused(
    desk: DeskServer, people: People, signed_in: Callable[[str], DeskClient]
) -> None:
    url = desk.database_url
    phone = "+15550070030"
    booking = new_request(url, phone)
    alice = signed_in("alice")
    emoji = alice.post(f"/api/requests/{booking.id}/confirm", {"note": "See you 😊"})
    assert emoji.status == 400 and "😊" in emoji.json()["error"]
    long = alice.post(f"/api/requests/{booking.id}/confirm", {"note": "x" * 161})
    assert long.status == 400 and "160" in long.json()["error"]
    # extension characters count twice: a note that fits 160 characters can still be too long
    wide = alice.post(f"/api/requests/{booking.id}/confirm", {"note": "[" * 160})
    assert wide.status == 400 and "segments" in wide.json()["error"]
    assert status_of(url, booking.id) == "requested"
    assert outcome_texts(url, phone) == [] and len(history(url, booking.id)) == 1


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
def test_an_edit_is_recorded_and_texts_nobody(
    desk: DeskServer, people: People, signed_in: Callable[[str], DeskClient]
) -> None:
    url = desk.database_url
    phone = "+15550070040"
    booking = new_request(url, phone)
    bob = signed_in("bob")
    new_out = (booking.check_out + dt.timedelta(days=1)).isoformat()
    response = bob.post(
        f"/api/requests/{booking.id}/edit",
        {"check_out": new_out, "guests": 3, "room_type": "suite", "note": "asked by phone"},
    )
    assert response.status == 200, response.text
    request = response.json()["request"]
    assert (request["check_out"], request["guests"], request["room_type"]) == (new_out, 3, "suite")
    assert request["status"] == "requested"
    edit = history(url, booking.id)[-1]
    assert (edit.actor, edit.agent_name, edit.from_status, edit.to_status, edit.note) == (
        "agent",
        "Bob Chen",
        "requested",
        "requested",
        "asked by phone",
    )
    assert edit.changed == {
        "check_out": [booking.check_out.isoformat(), new_out],
        "guests": [2, 3],
        "room_type": ["king", "suite"],
    }
    assert outcome_texts(url, phone) == [] and outbox_count(url, phone) == 0
    # the confirmation carries the edited details
    confirmed = bob.post(f"/api/requests/{booking.id}/confirm", {}).json()
    assert "(3 guests, " in confirmed["text"]["body"]
    # nothing changed, bad values: 400 and no history row
    before = len(history(url, booking.id))
    for body, error in [
        ({"guests": 3}, "nothing changed"),
        ({"guests": 0}, "guests must be 1 to 8"),
        ({"check_in": new_out}, "check-out must be after check-in"),
        ({"room_type": "castle"}, "room_type must be one of"),
        ({"check_in": "tomorrow"}, "date like"),
        ({"status": "confirmed"}, "cannot edit status"),
    ]:
        refused = bob.post(f"/api/requests/{booking.id}/edit", body)
        assert refused.status == 400 and error in refused.json()["error"], (body, refused.text)
    assert len(history(url, booking.id)) == before


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_opted_out_customer_gets_no_text_and_the_reason_is_recorded(
    desk: DeskServer, people: People, signed_in: Callable[[str], DeskClient]
) -> None:
    url = desk.database_url
    phone = "+15550070050"
    booking = new_request(url, phone)
    with session_scope(url) as session:
        set_opted_out(session, phone, True)
    alice = signed_in("alice")
    listed = alice.get("/api/requests?status=requested").json()["items"]
    assert [i["opted_out"] for i in listed if i["id"] == booking.id] == [True]
    response = alice.post(f"/api/requests/{booking.id}/confirm", {"note": "Room 4"})
    assert response.status == 200, response.text
    assert response.json()["text"]["status"] == "suppressed"
    assert response.json()["text"]["reason"] == "opted_out"
    assert status_of(url, booking.id) == "confirmed"  # the request is confirmed all the same
    [text] = outcome_texts(url, phone)
    assert (text.status, text.suppress_reason, text.outbox_id) == ("suppressed", "opted_out", None)
    assert outbox_count(url, phone) == 0
    last = alice.get(f"/api/requests/{booking.id}").json()["history"][-1]
    assert (last["to_status"], last["text_status"], last["text_reason"]) == (
        "confirmed",
        "suppressed",
        "opted_out",
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sign_in_and_csrf_are_enforced(
    desk: DeskServer, people: People, signed_in: Callable[[str], DeskClient]
) -> None:
    url = desk.database_url
    phone = "+15550070060"
    booking = new_request(url, phone)
    stranger = DeskClient(desk.url)
    assert stranger.get("/api/requests").status == 401
    assert stranger.get(f"/api/requests/{booking.id}").status == 401
    page = stranger.get("/requests")
    assert page.status == 302 and page.headers["Location"] == "/login"
    assert stranger.post(f"/api/requests/{booking.id}/confirm", {}, csrf=None).status in (401, 403)
    alice = signed_in("alice")
    for path, body in [
        (f"/api/requests/{booking.id}/confirm", {"note": "x"}),
        (f"/api/requests/{booking.id}/decline", {}),
        (f"/api/requests/{booking.id}/edit", {"guests": 3}),
    ]:
        for token in (None, "wrong-token"):
            refused = alice.post(path, body, csrf=token)
            assert refused.status == 403, (path, token)
            assert refused.json() == {"error": "missing or invalid CSRF token"}
        cross = alice.post(path, body, headers={"Origin": "https://evil.example"})
        assert cross.status == 403
    assert status_of(url, booking.id) == "requested" and len(history(url, booking.id)) == 1
    assert outcome_texts(url, phone) == []
    assert alice.get("/requests").status == 200
    # Sam's seeded request is listed too (it has no history yet: made before this table)
    refs = [i["phone"] for i in alice.get("/api/requests").json()["items"]]
    assert SAM in refs
