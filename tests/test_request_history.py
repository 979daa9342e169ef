"""What the customer does to a room request through the bot is in its history, and the
bot's REQUESTS answer shows each request's status (actions, real database)."""

from __future__ import annotations

import datetime as dt
from typing import List

from sqlalchemy import select, update

from actions.booking_requests import ActionCancelRequest, ActionListRequests
from actions.booking_submit import ActionSubmitBooking
from actions.stay_request import ActionStayRequest
from bot.store.booking_history import HistoryEntry, history_of
from bot.store.bookings import BookingView, create_booking_request
from bot.store.db import session_scope
from bot.store.models import BookingRequest, Customer
from bot.store.seed import ALEX, JORDAN, SAM
from tests.action_helpers import make_tracker, run_action, texts
from tests.test_actions import booking_slots


def history(request_id: int) -> List[HistoryEntry]:
    with session_scope() as session:
        return history_of(session, request_id)


def add_request(phone: str, days_ahead: int, guests: int = 2) -> BookingView:
    start = dt.date.today() + dt.timedelta(days=days_ahead)
    with session_scope() as session:
        return create_booking_request(
            session, phone, start, start + dt.timedelta(days=2), guests, "queen", None
        )


def set_status(request_id: int, status: str) -> None:
    with session_scope() as session:
        session.execute(
            update(BookingRequest).where(BookingRequest.id == request_id).values(status=status)
        )


def sams_request() -> int:
    """The seeded request of Sam's."""
    with session_scope() as session:
        return session.execute(
            select(BookingRequest.id).join(Customer).where(Customer.phone == SAM)
        ).scalar_one()


async def test_a_request_made_through_the_bot_starts_its_history(database_url: str) -> None:
    tracker = make_tracker(JORDAN, "yes", "affirm", slots=booking_slots())
    messages, _ = await run_action(ActionSubmitBooking(), tracker)
    ref = texts(messages)[0].split("request ", 1)[1].split(" ", 1)[0]
    [made] = history(int(ref[1:]))
    assert (made.actor, made.agent_id, made.from_status, made.to_status) == (
        "customer",
        None,
        None,
        "requested",
    )


async def test_a_cancellation_through_the_bot_is_recorded(database_url: str) -> None:
    request_id = sams_request()
    messages, _ = await run_action(
        ActionCancelRequest(), make_tracker(SAM, f"cancel R{request_id}", "cancel_request")
    )
    assert texts(messages) == [f"OK Sam, request R{request_id} is cancelled."]
    [cancelled] = history(request_id)  # the seeded request had no history before
    assert (cancelled.actor, cancelled.from_status, cancelled.to_status) == (
        "customer",
        "requested",
        "cancelled",
    )


async def test_a_confirmed_request_can_still_be_cancelled_a_declined_one_not(
    database_url: str,
) -> None:
    confirmed = add_request(ALEX, 30)
    declined = add_request(ALEX, 50)
    set_status(confirmed.id, "confirmed")
    set_status(declined.id, "declined")
    messages, _ = await run_action(
        ActionCancelRequest(), make_tracker(ALEX, f"cancel {declined.ref}", "cancel_request")
    )
    assert messages[0]["response"] == "utter_request_not_found"
    messages, _ = await run_action(
        ActionCancelRequest(), make_tracker(ALEX, f"cancel {confirmed.ref}", "cancel_request")
    )
    assert texts(messages) == [f"OK Alex, request {confirmed.ref} is cancelled."]
    assert [(h.from_status, h.to_status) for h in history(confirmed.id)] == [
        (None, "requested"),
        ("confirmed", "cancelled"),
    ]


async def test_requests_answer_shows_each_status(database_url: str) -> None:
    first = add_request(ALEX, 30, guests=2)
    second = add_request(ALEX, 40, guests=3)
    third = add_request(ALEX, 50, guests=1)
    set_status(first.id, "confirmed")
    set_status(third.id, "declined")
    messages, _ = await run_action(
        ActionListRequests(), make_tracker(ALEX, "REQUESTS", "my_requests")
    )
    [reply] = texts(messages)
    assert f"{first.ref} " in reply and ", 2p, queen: confirmed" in reply
    assert f"{second.ref} " in reply and ", 3p, queen: requested" in reply
    assert f"{third.ref} " in reply and ", 1p, queen: declined" in reply
    assert "not guaranteed until we text to confirm" in reply
    assert reply.endswith(f"To cancel, text e.g. cancel {first.ref}.")
    # Sam's request is not Alex's business
    assert f"R{sams_request()} " not in reply
    # nothing left to cancel: no "cancel" hint
    set_status(first.id, "cancelled")
    set_status(second.id, "cancelled")
    messages, _ = await run_action(
        ActionListRequests(), make_tracker(ALEX, "REQUESTS", "my_requests")
    )
    [reply] = texts(messages)
    assert reply.startswith(f"Your requests on file: {third.ref} ")
    assert reply.endswith(", 1p, queen: declined. Text REQUEST to make a new one.")


async def test_a_stay_note_is_recorded_as_a_change_of_the_notes(database_url: str) -> None:
    request_id = sams_request()
    tracker = make_tracker(SAM, "can we get a crib", "book_room")
    messages, _ = await run_action(ActionStayRequest(), tracker)
    assert "crib" in texts(messages)[0]
    [note] = history(request_id)
    assert (note.actor, note.from_status, note.to_status) == ("customer", "requested", "requested")
    assert note.changed == {
        "notes": ["late check-in around 11pm", "late check-in around 11pm; can we get a crib"]
    }
