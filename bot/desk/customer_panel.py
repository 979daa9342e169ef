"""The customer beside the conversation: who, opt-out state, orders, room requests on file
(with their status: requested, confirmed, declined)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import List, Optional

from sqlalchemy.orm import Session

from bot.store.bookings import BookingView, requests_on_file_for_phone
from bot.store.customers import find_customer
from bot.store.orders import OrderView, recent_orders_for_phone


@dataclass(frozen=True)
class BookingLine:
    """A booking request with its customer-facing reference."""

    id: int
    ref: str
    check_in: dt.date
    check_out: dt.date
    guests: int
    room_type: Optional[str]
    notes: Optional[str]
    status: str


@dataclass(frozen=True)
class CustomerPanel:
    """What the right column shows."""

    phone: str
    known: bool
    name: Optional[str]
    email: Optional[str]
    opted_out: bool
    opted_out_at: Optional[dt.datetime]
    customer_since: Optional[dt.datetime]
    orders: List[OrderView]
    bookings: List[BookingLine]


def _booking(b: BookingView) -> BookingLine:
    return BookingLine(
        b.id, b.ref, b.check_in, b.check_out, b.guests, b.room_type, b.notes, b.status
    )


def customer_panel(session: Session, phone: str, max_orders: int = 10) -> CustomerPanel:
    """The customer's file (an unknown number gives an empty, not-opted-out panel)."""
    customer = find_customer(session, phone)
    if customer is not None:
        session.refresh(customer)
    orders = recent_orders_for_phone(session, phone, limit=max_orders)
    bookings = [_booking(b) for b in requests_on_file_for_phone(session, phone)]
    return CustomerPanel(
        phone,
        customer is not None,
        customer.name if customer else None,
        customer.email if customer else None,
        bool(customer and customer.opted_out),
        customer.opted_out_at if customer else None,
        customer.created_at if customer else None,
        orders,
        bookings,
    )
