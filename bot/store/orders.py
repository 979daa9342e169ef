"""Order lookups, always scoped to the texting phone number."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.models import (
    Conversation,
    Customer,
    Message,
    Order,
    OutboundText,
    OutboxMessage,
)
from bot.text.orders_format import normalise_order_number


@dataclass(frozen=True)
class OrderView:
    number: str
    status: str
    carrier: Optional[str]
    tracking_number: Optional[str]
    eta: Optional[dt.date]
    summary: Optional[str]
    placed_at: dt.datetime


def _view(order: Order) -> OrderView:
    return OrderView(
        number=order.number,
        status=order.status,
        carrier=order.carrier,
        tracking_number=order.tracking_number,
        eta=order.eta,
        summary=order.summary,
        placed_at=order.placed_at,
    )


def find_order_for_phone(session: Session, phone: str, number: str) -> Optional[OrderView]:
    """The order if it exists AND belongs to this phone; None otherwise (indistinguishable)."""
    order = session.execute(
        select(Order)
        .join(Customer)
        .where(Order.number == normalise_order_number(number), Customer.phone == phone)
    ).scalar_one_or_none()
    return _view(order) if order else None


def recent_orders_for_phone(session: Session, phone: str, limit: int = 3) -> List[OrderView]:
    orders = session.execute(
        select(Order)
        .join(Customer)
        .where(Customer.phone == phone)
        .order_by(Order.placed_at.desc(), Order.id.desc())
        .limit(limit)
    ).scalars()
    return [_view(o) for o in orders]


OPEN_STATUSES = ("processing", "shipped")


def _orders_for_phone(session: Session, phone: str, condition: Any, limit: int) -> List[OrderView]:
    orders = session.execute(
        select(Order)
        .join(Customer)
        .where(Customer.phone == phone, condition)
        .order_by(Order.placed_at.desc(), Order.id.desc())
        .limit(limit)
    ).scalars()
    return [_view(o) for o in orders]


def open_orders_for_phone(session: Session, phone: str, limit: int = 3) -> List[OrderView]:
    """This phone's orders not yet delivered or cancelled, newest first."""
    return _orders_for_phone(session, phone, Order.status.in_(OPEN_STATUSES), limit)


def carrier_orders_for_phone(session: Session, phone: str, limit: int = 50) -> List[OrderView]:
    """This phone's orders handed to a carrier, newest first."""
    return _orders_for_phone(session, phone, Order.carrier.isnot(None), limit)


NOTIFIED_CONTEXT = dt.timedelta(hours=24)  # a reply this long after still refers to it


def notified_order_for_phone(
    session: Session, phone: str, since: Optional[dt.datetime], until: dt.datetime
) -> Optional[str]:
    """The order of the newest notification that actually left for this phone (its
    outbox row was sent: after any quiet-hours wait) in (`since`, `until`] (naive UTC):
    after the conversation last settled on an order and by the time the customer's text
    arrived, and within a day of it; None if there is none. A notification that left after
    the text arrived is news to the customer, not what they reply to."""
    earliest = until - NOTIFIED_CONTEXT
    if since is not None and since > earliest:
        earliest = since
    return session.execute(
        select(OutboundText.order_number)
        .join(OutboxMessage, OutboxMessage.id == OutboundText.outbox_id)
        .where(
            OutboundText.phone == phone,
            OutboundText.order_number.is_not(None),
            OutboxMessage.sent_at.is_not(None),
            OutboxMessage.sent_at > earliest,
            OutboxMessage.sent_at <= until,
        )
        .order_by(OutboxMessage.sent_at.desc(), OutboundText.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def arrival_time(session: Session, phone: str, provider_uuid: str) -> Optional[dt.datetime]:
    """When the customer's text `provider_uuid` arrived (naive UTC, from the inbound queue:
    the order turns run in); None if that text is not on record."""
    return session.execute(
        select(Message.created_at)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Conversation.phone == phone,
            Message.provider_uuid == provider_uuid,
            Message.direction == "in",
        )
        .limit(1)
    ).scalar_one_or_none()
