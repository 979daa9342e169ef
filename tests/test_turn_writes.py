"""A turn replayed after a crash writes nothing twice: writes are keyed by the MessageUUID."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from bot.store.bookings import add_note_for_phone, create_booking_request
from bot.store.db import session_scope
from bot.store.handoffs import record_handoff
from bot.store.models import BookingRequest, HandoffRequest
from bot.store.seed import ALEX

IN, OUT = dt.date(2027, 3, 1), dt.date(2027, 3, 3)


def _booking(message_id: str) -> int:
    with session_scope() as session:
        return create_booking_request(
            session, ALEX, IN, OUT, 2, "king", None, message_id=message_id
        ).id


def test_a_room_request_is_stored_once_per_text(database_url: str) -> None:
    first = _booking("uuid-book-1")
    assert _booking("uuid-book-1") == first  # the replay gets the same request back
    assert _booking("uuid-book-2") != first  # another text: another request
    with session_scope() as session:
        stored = session.execute(
            select(func.count()).where(BookingRequest.source_message_id == "uuid-book-1")
        ).scalar_one()
    assert stored == 1


def test_a_stay_note_is_added_once_per_text(database_url: str) -> None:
    request = _booking("uuid-book-3")
    for _ in range(2):
        with session_scope() as session:
            view = add_note_for_phone(session, ALEX, request, "late checkout", "uuid-note-1")
    assert view is not None and view.notes == "late checkout"
    with session_scope() as session:
        view = add_note_for_phone(session, ALEX, request, "extra towels", "uuid-note-2")
    assert view is not None and view.notes == "late checkout; extra towels"


def test_a_handoff_is_asked_once_per_text(database_url: str) -> None:
    for _ in range(2):
        with session_scope() as session:
            record_handoff(session, ALEX, "asked", "general", "help", message_id="uuid-agent-1")
    with session_scope() as session:
        handoffs = session.execute(
            select(func.count()).where(HandoffRequest.phone == ALEX)
        ).scalar_one()
    assert handoffs == 1
