"""Demo data (a contract other tests use). Idempotent: running it again refreshes it."""

from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.customers import get_or_create_customer
from bot.store.models import BookingRequest, Order, utcnow

ALEX = "+15005550001"
SAM = "+15005550002"
PRIYA = "+15005550003"
JORDAN = "+15005550004"

CUSTOMERS = {
    ALEX: ("Alex Rivera", "alex@example.com"),
    SAM: ("Sam Lee", "sam@example.com"),
    PRIYA: ("Priya Patel", "priya@example.com"),
    JORDAN: ("Jordan Kim", None),
}


def _orders(today: dt.date) -> list:
    return [
        # number, phone, status, carrier, tracking, eta, summary, days ago placed
        (
            "A1001",
            ALEX,
            "shipped",
            "UPS",
            "1Z999AA10123456784",
            today + dt.timedelta(days=2),
            "2x bath robe",
            3,
        ),
        ("A1002", ALEX, "processing", None, None, today + dt.timedelta(days=6), "gift card box", 1),
        (
            "B2001",
            SAM,
            "delivered",
            "USPS",
            "9400111899223197428490",
            today - dt.timedelta(days=4),
            "scented candle set",
            9,
        ),
        ("C3001", PRIYA, "cancelled", None, None, None, "beach towel", 20),
        (
            "C3002",
            PRIYA,
            "shipped",
            "FedEx",
            "794698765432",
            today + dt.timedelta(days=1),
            "hotel pillow",
            2,
        ),
    ]


def seed(session: Session, today: Optional[dt.date] = None) -> None:
    today = today or dt.date.today()
    customers = {}
    for phone, (name, email) in CUSTOMERS.items():
        customer = get_or_create_customer(session, phone)
        customer.name, customer.email = name, email
        customers[phone] = customer
    for number, phone, status, carrier, tracking, eta, summary, ago in _orders(today):
        order = session.execute(select(Order).where(Order.number == number)).scalar_one_or_none()
        if order is None:
            order = Order(number=number)
            session.add(order)
        order.customer_id = customers[phone].id
        order.status, order.carrier, order.tracking_number = status, carrier, tracking
        order.eta, order.summary = eta, summary
        order.placed_at = utcnow() - dt.timedelta(days=ago)
    sam = customers[SAM]
    has_booking = session.execute(
        select(BookingRequest.id).where(BookingRequest.customer_id == sam.id)
    ).first()
    if not has_booking:
        session.add(
            BookingRequest(
                customer_id=sam.id,
                check_in=today + dt.timedelta(days=14),
                check_out=today + dt.timedelta(days=16),
                guests=2,
                room_type="king",
                notes="late check-in around 11pm",
                status="requested",
            )
        )
    session.flush()
