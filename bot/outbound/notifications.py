"""Notifications the business sends: a call of the notification API (one template to one
number or a list), or an order's status change. Both go through `request_text` (consent,
quiet hours, idempotency, the outbox at the number's rate).

A call's idempotency key is scoped to the calling token (its SHA-256 fingerprint is
stored, never the token): the same key and body answers with the first call's texts, the
same key with another body is a 409. Every recipient is checked before anything is
written: an unknown order, or one that is not that number's, refuses the whole list (422).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.outbound import service
from bot.outbound.templates import (
    BOOKING_TEMPLATES,
    ORDER_DELAYED,
    ORDER_DELIVERED,
    ORDER_SHIPPED,
    ORDER_TEMPLATES,
    TemplateError,
    Templates,
)
from bot.settings import Settings
from bot.sms.customer_text import fold_name
from bot.sms.segments import GSM7, encoding_of
from bot.store.db import insert_once
from bot.store.models import BookingRequest, Customer, NotificationRequest, Order, utcnow
from bot.text.orders_format import normalise_order_number
from bot.text.phone import to_e164
from bot.text.stay_span import booking_span

MAX_RECIPIENTS = 1000
KEY_MAX_LENGTH = 200
ORDER_STATUSES = ("processing", "shipped", "delayed", "delivered", "cancelled")
TEMPLATE_OF_STATUS = {
    "shipped": ORDER_SHIPPED,
    "delayed": ORDER_DELAYED,
    "delivered": ORDER_DELIVERED,
}
NOTIFICATION_KINDS = frozenset(ORDER_TEMPLATES + BOOKING_TEMPLATES)


class NotifyProblem(Exception):
    """A call refused with an HTTP status (400, 404, 409, 422) and a message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Recipient:
    """One number of a call and what its text is about."""

    phone: str  # E.164
    order: Optional[str]
    request: Optional[int]


@dataclass(frozen=True)
class NotifyCall:
    """A checked API body."""

    to: Tuple[Recipient, ...]  # in the order given
    template: str
    idempotency_key: str
    listed: bool  # `to` was a list


def fingerprint(token: str) -> str:
    """What is stored of a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _text(data: Mapping[str, Any], key: str) -> Optional[str]:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise NotifyProblem(400, f"{key} must be a non-empty string")
    return value.strip()


def _request_id(value: Optional[str]) -> Optional[int]:
    if value is None:
        return None
    digits = value[1:] if value[:1] in ("R", "r") else value
    if not digits.isdigit():
        raise NotifyProblem(400, 'request must look like "R7"')
    return int(digits)


def _recipient(
    item: Any, template: str, order: Optional[str], request: Optional[int], settings: Settings
) -> Recipient:
    """A number, or {"phone", "order" | "request"} overriding the call's order/request."""
    if isinstance(item, Mapping):
        unknown = set(item) - {"phone", "order", "request"}
        if unknown:
            raise NotifyProblem(400, f"unknown recipient fields: {', '.join(sorted(unknown))}")
        number = item.get("phone")
        order = _text(item, "order") or order
        request = _request_id(_text(item, "request")) or request
    else:
        number = item
    e164 = to_e164(number, settings.default_country_code) if isinstance(number, str) else None
    if e164 is None:
        raise NotifyProblem(400, f"not a phone number: {number!r}")
    if template in ORDER_TEMPLATES and (order is None or request is not None):
        raise NotifyProblem(400, f"{template} takes an order (and no request)")
    if template in BOOKING_TEMPLATES and (request is None or order is not None):
        raise NotifyProblem(400, f"{template} takes a request (and no order)")
    return Recipient(e164, normalise_order_number(order) if order else None, request)


def parse_call(data: Mapping[str, Any], templates: Templates, settings: Settings) -> NotifyCall:
    """The body checked (400 with the reason otherwise)."""
    unknown = set(data) - {"to", "template", "order", "request", "idempotency_key"}
    if unknown:
        raise NotifyProblem(400, f"unknown fields: {', '.join(sorted(unknown))}")
    template = _text(data, "template")
    if template is None or template not in NOTIFICATION_KINDS or template not in templates:
        known = ", ".join(sorted(NOTIFICATION_KINDS))
        raise NotifyProblem(400, f"template must be one of {known}")
    key = _text(data, "idempotency_key")
    if key is None or len(key) > KEY_MAX_LENGTH:
        raise NotifyProblem(400, f"idempotency_key must be 1-{KEY_MAX_LENGTH} characters")
    raw_to = data.get("to")
    listed = isinstance(raw_to, list)
    items = raw_to if listed else [raw_to]
    if not items or len(items) > MAX_RECIPIENTS:
        raise NotifyProblem(400, f"to must be a number or a list of 1-{MAX_RECIPIENTS}")
    order = _text(data, "order")
    request = _request_id(_text(data, "request"))
    to: List[Recipient] = []
    for item in items:
        recipient = _recipient(item, template, order, request, settings)
        if any(other.phone == recipient.phone for other in to):
            raise NotifyProblem(400, f"{recipient.phone} is listed twice")
        to.append(recipient)
    return NotifyCall(tuple(to), template, key, listed)


def _digest(call: NotifyCall) -> str:
    """The body's hash, as the key's first use defined it."""
    canonical = [[[r.phone, r.order, r.request] for r in call.to], call.template, call.listed]
    return hashlib.sha256(json.dumps(canonical).encode("utf-8")).hexdigest()


def _date(day: Optional[dt.date]) -> str:
    return f"{day:%a %b} {day.day}" if day else "soon"


def _fill(templates: Templates, template: str, customer: Customer, **fields: str) -> str:
    """The filled text, the first name folded to GSM-7 as in the bot's replies; one that
    would make it too long, or has no GSM-7 form, becomes "there"."""
    first = (fold_name(customer.first_name) if customer.first_name else None) or "there"
    try:
        return templates.fill(template, first_name=first, **fields)
    except TemplateError:
        try:
            return templates.fill(template, first_name="there", **fields)
        except TemplateError as problem:
            raise NotifyProblem(422, f"{template} for {customer.phone}: {problem}") from None


def order_text(templates: Templates, template: str, order: Order, customer: Customer) -> str:
    """An order template filled from the order."""
    return _fill(
        templates,
        template,
        customer,
        order=order.number,
        carrier=order.carrier or "the carrier",
        tracking=order.tracking_number or "pending",
        date=_date(order.eta),
    )


def _order_of(session: Session, phone: str, number: str) -> Tuple[Order, Customer]:
    found = session.execute(
        select(Order, Customer)
        .join(Customer, Customer.id == Order.customer_id)
        .where(Order.number == number)
    ).first()
    if found is None or found[1].phone != phone:
        raise NotifyProblem(422, f"order {number} is not an order of {phone}")
    return found[0], found[1]


def _booking_text(
    session: Session, templates: Templates, template: str, phone: str, request_id: int
) -> str:
    found = session.execute(
        select(BookingRequest, Customer)
        .join(Customer, Customer.id == BookingRequest.customer_id)
        .where(BookingRequest.id == request_id)
    ).first()
    if found is None or found[1].phone != phone:
        raise NotifyProblem(422, f"room request R{request_id} is not a request of {phone}")
    booking, customer = found
    return _fill(
        templates,
        template,
        customer,
        ref=f"R{booking.id}",
        guests=f"{booking.guests} guest{'s' if booking.guests != 1 else ''}",
        span=booking_span(booking.check_in, booking.check_out),
        room=booking.room_type or "any",
        date=_date(booking.check_in),
    )


def _texts(session: Session, templates: Templates, call: NotifyCall) -> List[str]:
    """Every recipient's text, or a NotifyProblem before anything is written."""
    bodies = []
    for to in call.to:
        if to.order is not None:
            order, customer = _order_of(session, to.phone, to.order)
            bodies.append(order_text(templates, call.template, order, customer))
        else:
            assert to.request is not None
            bodies.append(_booking_text(session, templates, call.template, to.phone, to.request))
    return bodies


def _insert_call(session: Session, values: Dict[str, Any]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING on (token, key): False if the key was used."""
    return insert_once(
        session, NotificationRequest, values, ["token_fingerprint", "idempotency_key"]
    )


def _earlier_call(session: Session, token: str, key: str) -> Optional[NotificationRequest]:
    return session.execute(
        select(NotificationRequest).where(
            NotificationRequest.token_fingerprint == token,
            NotificationRequest.idempotency_key == key,
        )
    ).scalar_one_or_none()


def _item(view: service.OutboundView) -> Dict[str, Any]:
    return {
        "id": view.id,
        "to": view.phone,
        "template": view.kind,
        "status": view.status,
        "reason": view.suppress_reason,
        "not_before": view.not_before,
        "sent_at": view.sent_at,
    }


def batch_answer(session: Session, batch: str) -> Dict[str, Any]:
    """A call's texts and how many are in each status."""
    views = service.texts_of_batch(session, batch)
    return {
        "batch": batch,
        "notifications": [_item(view) for view in views],
        "progress": service.batch_progress(session, batch),
    }


def notify(
    session: Session,
    settings: Settings,
    templates: Templates,
    token_fingerprint: str,
    data: Mapping[str, Any],
) -> Tuple[Dict[str, Any], bool]:
    """Send one API call's texts: (answer, replayed); NotifyProblem when refused."""
    call = parse_call(data, templates, settings)
    digest = _digest(call)
    earlier = _earlier_call(session, token_fingerprint, call.idempotency_key)
    if earlier is None:
        bodies = _texts(session, templates, call)  # 422 before anything is written
        batch = f"n-{secrets.token_hex(8)}"
        values = {
            "token_fingerprint": token_fingerprint,
            "idempotency_key": call.idempotency_key,
            "body_hash": digest,
            "batch": batch,
            "created_at": utcnow(),
        }
        if _insert_call(session, values):
            key_hash = hashlib.sha256(call.idempotency_key.encode("utf-8")).hexdigest()
            for to, body in zip(call.to, bodies, strict=True):
                service.request_text(
                    session,
                    settings,
                    phone=to.phone,
                    kind=call.template,
                    body=body,
                    idempotency_key=f"api:{token_fingerprint[:16]}:{key_hash[:32]}:{to.phone}",
                    batch=batch,
                    order_number=to.order,
                )
            return batch_answer(session, batch), False
        earlier = _earlier_call(session, token_fingerprint, call.idempotency_key)
        assert earlier is not None  # a concurrent call with the key won
    if earlier.body_hash != digest:
        raise NotifyProblem(409, "this idempotency_key was used with another body")
    return batch_answer(session, earlier.batch), True


def _readable(session: Session, batch: Optional[str], token_fingerprint: str) -> bool:
    """A call's texts are its token's to read; texts no API call sent (an order's status
    change, the desk's request outcomes) any token may read."""
    caller = session.execute(
        select(NotificationRequest.token_fingerprint).where(NotificationRequest.batch == batch)
    ).scalar_one_or_none()
    return caller is None or caller == token_fingerprint


def notification(session: Session, text_id: int, token_fingerprint: str) -> Dict[str, Any]:
    """One notification's status (404 for other texts and other tokens' calls)."""
    view = service.get_text(session, text_id)
    if (
        view is None
        or view.kind not in NOTIFICATION_KINDS
        or not _readable(session, view.batch, token_fingerprint)
    ):
        raise NotifyProblem(404, "no such notification")
    return {**_item(view), "batch": view.batch}


def batch_progress(session: Session, batch: str, token_fingerprint: str) -> Dict[str, Any]:
    """A list's texts and counts by status (404 for an unknown batch, another token's)."""
    answer = batch_answer(session, batch)
    if not answer["notifications"] or not _readable(session, batch, token_fingerprint):
        raise NotifyProblem(404, "no such batch")
    return answer


def _eta(value: Optional[str]) -> Optional[dt.date]:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise NotifyProblem(400, "eta must be a date like 2026-12-05") from None


def set_order_status(
    session: Session,
    settings: Settings,
    templates: Templates,
    number: str,
    data: Mapping[str, Any],
) -> Dict[str, Any]:
    """Change an order's status (and carrier, tracking, eta); a change to shipped, delayed
    or delivered sends its notification once per (order, status), consent and quiet
    hours permitting."""
    unknown = set(data) - {"status", "carrier", "tracking", "eta"}
    if unknown:
        raise NotifyProblem(400, f"unknown fields: {', '.join(sorted(unknown))}")
    status = _text(data, "status")
    if status not in ORDER_STATUSES:
        raise NotifyProblem(400, f"status must be one of {', '.join(ORDER_STATUSES)}")
    carrier, tracking = _text(data, "carrier"), _text(data, "tracking")
    if carrier is not None and len(carrier) > 40 or tracking is not None and len(tracking) > 60:
        raise NotifyProblem(400, "carrier is at most 40 characters, tracking 60")
    if any(value and encoding_of(value) != GSM7 for value in (carrier, tracking)):
        # the templates' budgets are checked with these fields in GSM-7
        raise NotifyProblem(400, "carrier and tracking must be plain text (no emoji)")
    eta = _eta(_text(data, "eta"))
    found = session.execute(
        select(Order, Customer)
        .join(Customer, Customer.id == Order.customer_id)
        .where(Order.number == normalise_order_number(number))
        .with_for_update()
    ).first()
    if found is None:
        raise NotifyProblem(404, f"no order {number}")
    order, customer = found
    changed = order.status != status
    order.status = status
    order.carrier = carrier or order.carrier
    order.tracking_number = tracking or order.tracking_number
    order.eta = eta or order.eta
    session.flush()
    template = TEMPLATE_OF_STATUS.get(status)
    sent = None
    if changed and template is not None:
        view = service.request_text(
            session,
            settings,
            phone=customer.phone,
            kind=template,
            body=order_text(templates, template, order, customer),
            idempotency_key=f"order-status:{order.number}:{status}",
            batch=f"order-{order.number}",
            order_number=order.number,
        )
        sent = _item(view)
    return {
        "order": order.number,
        "status": order.status,
        "carrier": order.carrier,
        "tracking": order.tracking_number,
        "eta": order.eta,
        "changed": changed,
        "notification": sent,
    }
