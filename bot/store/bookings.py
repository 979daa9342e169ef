"""Room/booking requests stored on the customer's file.

`requested` (never guaranteed) until staff confirm or decline it (bot/desk/room_requests.py);
the customer may cancel one that is requested or confirmed. Every change the customer makes
here is also a row of the request's history (bot/store/booking_history.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import List, Optional, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.booking_history import CUSTOMER, record_change
from bot.store.customers import get_or_create_customer
from bot.store.models import BookingRequest, Customer, utcnow
from bot.store.turn_writes import first_write

REQUESTED = "requested"
CONFIRMED = "confirmed"
DECLINED = "declined"
CANCELLED = "cancelled"
STATUSES = (REQUESTED, CONFIRMED, DECLINED, CANCELLED)
CANCELLABLE = (REQUESTED, CONFIRMED)  # the customer may still cancel these
ON_FILE = (REQUESTED, CONFIRMED, DECLINED)  # what the customer's REQUESTS lists


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
    record_change(session, booking.id, CUSTOMER, REQUESTED)
    return _view(booking)


def _requests_of_phone(
    session: Session, phone: str, statuses: Tuple[str, ...]
) -> List[BookingView]:
    rows = session.execute(
        select(BookingRequest)
        .join(Customer)
        .where(Customer.phone == phone, BookingRequest.status.in_(statuses))
        .order_by(BookingRequest.check_in, BookingRequest.id)
    ).scalars()
    return [_view(b) for b in rows]


def open_requests_for_phone(session: Session, phone: str) -> List[BookingView]:
    """This phone's requests waiting for staff (the ones a stay note goes on)."""
    return _requests_of_phone(session, phone, (REQUESTED,))


def cancellable_requests_for_phone(session: Session, phone: str) -> List[BookingView]:
    """This phone's requests it may still cancel (requested or confirmed)."""
    return _requests_of_phone(session, phone, CANCELLABLE)


def requests_on_file_for_phone(session: Session, phone: str) -> List[BookingView]:
    """This phone's requests with their status, cancelled ones left out."""
    return _requests_of_phone(session, phone, ON_FILE)


def _request_of_phone(
    session: Session, phone: str, request_id: int, statuses: Tuple[str, ...] = (REQUESTED,)
) -> Optional[BookingRequest]:
    """Request `request_id` in one of `statuses` if it is this phone's, locked for an update."""
    return session.execute(
        select(BookingRequest)
        .join(Customer)
        .where(
            BookingRequest.id == request_id,
            Customer.phone == phone,
            BookingRequest.status.in_(statuses),
        )
        .with_for_update()
    ).scalar_one_or_none()


def cancel_request_for_phone(
    session: Session, phone: str, request_id: int
) -> Optional[BookingView]:
    """Cancel one of this phone's requested or confirmed requests (recorded in its
    history); None if it is not theirs or not cancellable."""
    booking = _request_of_phone(session, phone, request_id, CANCELLABLE)
    if booking is None:
        return None
    before = booking.status
    booking.status = CANCELLED
    booking.updated_at = utcnow()
    session.flush()
    record_change(session, booking.id, CUSTOMER, CANCELLED, from_status=before)
    return _view(booking)


def add_note_for_phone(
    session: Session, phone: str, request_id: int, note: str, message_id: Optional[str] = None
) -> Optional[BookingView]:
    """Append a note to one of this phone's open requests; None if not theirs or not open.
    A note already added for `message_id` (a replayed turn) is not added again."""
    booking = _request_of_phone(session, phone, request_id)
    if booking is None:
        return None
    if not first_write(session, message_id, "stay_note"):
        return _view(booking)
    before = booking.notes
    booking.notes = "; ".join(part for part in (booking.notes, note.strip()) if part)
    booking.updated_at = utcnow()
    session.flush()
    record_change(
        session,
        booking.id,
        CUSTOMER,
        booking.status,
        from_status=booking.status,
        changed={"notes": [before, booking.notes]},
    )
    return _view(booking)
