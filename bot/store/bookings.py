"""Room/booking requests stored on the customer's file (status `requested`, never guaranteed)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.customers import get_or_create_customer
from bot.store.models import BookingRequest, Customer, utcnow
from bot.store.turn_writes import first_write

REQUESTED = "requested"
CANCELLED = "cancelled"


@dataclass(frozen=True)
class BookingView:
    id: int
    check_in: dt.date
    check_out: dt.date
    guests: int
    room_type: Optional[str]
    notes: Optional[str]
    status: str

    @property
    def ref(self) -> str:
        """The customer-facing reference, e.g. R7."""
        return f"R{self.id}"


def _view(b: BookingRequest) -> BookingView:
    return BookingView(b.id, b.check_in, b.check_out, b.guests, b.room_type, b.notes, b.status)


def create_booking_request(
    session: Session,
    phone: str,
    check_in: dt.date,
    check_out: dt.date,
    guests: int,
    room_type: Optional[str],
    notes: Optional[str],
    message_id: Optional[str] = None,
) -> BookingView:
    """A new request; with `message_id` (the asking text's MessageUUID), a request already
    made for that text is returned instead of a second one (a replayed turn)."""
    if message_id:
        existing = session.execute(
            select(BookingRequest).where(BookingRequest.source_message_id == message_id)
        ).scalar_one_or_none()
        if existing is not None:
            return _view(existing)
    customer = get_or_create_customer(session, phone)
    booking = BookingRequest(
        customer_id=customer.id,
        check_in=check_in,
        check_out=check_out,
        guests=guests,
        room_type=room_type,
        notes=notes,
        status=REQUESTED,
        source_message_id=message_id[:64] if message_id else None,
    )
    session.add(booking)
    session.flush()
    return _view(booking)


def open_requests_for_phone(session: Session, phone: str) -> List[BookingView]:
    rows = session.execute(
        select(BookingRequest)
        .join(Customer)
        .where(Customer.phone == phone, BookingRequest.status == REQUESTED)
        .order_by(BookingRequest.check_in, BookingRequest.id)
    ).scalars()
    return [_view(b) for b in rows]


def _open_request_of_phone(
    session: Session, phone: str, request_id: int
) -> Optional[BookingRequest]:
    """The open request `request_id` if it is this phone's, locked for an update."""
    return session.execute(
        select(BookingRequest)
        .join(Customer)
        .where(
            BookingRequest.id == request_id,
            Customer.phone == phone,
            BookingRequest.status == REQUESTED,
        )
        .with_for_update()
    ).scalar_one_or_none()


def cancel_request_for_phone(
    session: Session, phone: str, request_id: int
) -> Optional[BookingView]:
    """Cancel one of this phone's open requests; None if it is not theirs or not open."""
    booking = _open_request_of_phone(session, phone, request_id)
    if booking is None:
        return None
    booking.status = CANCELLED
    booking.updated_at = utcnow()
    session.flush()
    return _view(booking)


def add_note_for_phone(
    session: Session, phone: str, request_id: int, note: str, message_id: Optional[str] = None
) -> Optional[BookingView]:
    """Append a note to one of this phone's open requests; None if not theirs or not open.
    A note already added for `message_id` (a replayed turn) is not added again."""
    booking = _open_request_of_phone(session, phone, request_id)
    if booking is None:
        return None
    if not first_write(session, message_id, "stay_note"):
        return _view(booking)
    booking.notes = "; ".join(part for part in (booking.notes, note.strip()) if part)
    booking.updated_at = utcnow()
    session.flush()
    return _view(booking)
