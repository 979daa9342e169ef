"""Request a text the business starts, and read what became of it.

`request_text` decides in the caller's transaction, once per (kind, idempotency key):

- suppressed: the number opted out (reason `opted_out`); nothing is queued;
- scheduled: now is inside quiet hours in the customer's timezone (else BUSINESS_TZ), or
  the caller asked for later: `not_before` holds when (UTC); a worker releases it
  (`release`, bot/outbound/scheduler.py);
- queued: written into the outbox in the same transaction; the outbox worker sends it at
  the number's rate; sent, delivered and failed are then read from the outbox row.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Dict, List, Optional

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.outbound.quiet_hours import is_valid_zone, next_allowed, parse_quiet_hours, zone
from bot.settings import Settings
from bot.sms import outbox
from bot.store.db import insert_once
from bot.store.models import Customer, OutboundText, OutboxMessage
from bot.text.phone import to_e164

logger = logging.getLogger(__name__)

SCHEDULED, QUEUED, SENT, DELIVERED, FAILED, SUPPRESSED = (
    "scheduled",
    "queued",
    "sent",
    "delivered",
    "failed",
    "suppressed",
)
STATUSES = (SCHEDULED, QUEUED, SENT, DELIVERED, FAILED, SUPPRESSED)
# Why a text was not sent.
OPTED_OUT = "opted_out"  # when it was requested
OPTED_OUT_WHILE_SCHEDULED = "opted_out_while_scheduled"  # when it was due
OPTED_OUT_BEFORE_SEND = "opted_out_before_send"  # while it waited in the outbox
# The outbox row's status, as a caller sees it.
_FROM_OUTBOX = {
    outbox.QUEUED: QUEUED,
    outbox.SENDING: QUEUED,
    outbox.SENT: SENT,
    outbox.DELIVERED: DELIVERED,
    outbox.UNDELIVERED: FAILED,
    outbox.FAILED: FAILED,
    outbox.SUPPRESSED: SUPPRESSED,
}
_KIND = re.compile(r"^[a-z][a-z0-9_]{0,19}$")  # the outbox row's kind too (20 characters)
# The SMS path's own kinds (answers to the customer, compliance texts that reach opted-out
# numbers): never a business-started text.
RESERVED_KINDS = frozenset({"reply", "agent", "system", "compliance"} | outbox.OPT_OUT_EXEMPT)


class OutboundRequestError(ValueError):
    """A request the service cannot accept (bad phone, kind, body or key)."""


@dataclass(frozen=True)
class OutboundView:
    id: int
    phone: str
    kind: str
    idempotency_key: str
    batch: Optional[str]
    status: str  # one of STATUSES
    suppress_reason: Optional[str]
    not_before: Optional[dt.datetime]  # UTC, while scheduled
    outbox_id: Optional[int]
    created_at: dt.datetime
    sent_at: Optional[dt.datetime] = None
    error_code: Optional[str] = None


def _validated(settings: Settings, phone: str, kind: str, body: str, key: str) -> str:
    number = to_e164(phone, settings.default_country_code)
    if number is None:
        raise OutboundRequestError(f"not a phone number: {phone!r}")
    if not _KIND.match(kind or ""):
        raise OutboundRequestError(f"kind must be 1-20 of a-z, 0-9, _ (got {kind!r})")
    if kind in RESERVED_KINDS:
        raise OutboundRequestError(f"kind {kind!r} belongs to the SMS path's own replies")
    if not (body or "").strip():
        raise OutboundRequestError("the text is empty")
    if not (key or "").strip() or len(key) > 200:
        raise OutboundRequestError("the idempotency key must be 1-200 characters")
    return number


def _aware(moment: dt.datetime) -> dt.datetime:
    """Naive datetimes are UTC (the database's convention)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.timezone.utc).replace(tzinfo=None)


def request_text(
    session: Session,
    settings: Settings,
    *,
    phone: str,
    kind: str,
    body: str,
    idempotency_key: str,
    batch: Optional[str] = None,
    not_before: Optional[dt.datetime] = None,
    quiet_hours: bool = True,
    now: Optional[dt.datetime] = None,
    order_number: Optional[str] = None,
) -> OutboundView:
    """Suppress, schedule or queue one text; a repeated (kind, key) returns the first.

    `not_before` (UTC if naive) asks for a later send; quiet hours still apply then.
    `quiet_hours=False` is for a notice inside a conversation the customer is having
    right now (the desk's BOT/WAIT offer), which must not arrive hours late.
    `order_number`: the order the text is about (a reply's context once it was sent).
    """
    number = _validated(settings, phone, kind, body, idempotency_key)
    existing = find_text(session, kind, idempotency_key)
    if existing is not None:
        return _same_number(existing, number)
    current = _aware(now or dt.datetime.now(dt.timezone.utc))
    customer = session.execute(
        select(Customer.id, Customer.opted_out, Customer.timezone).where(Customer.phone == number)
    ).first()
    earliest = max(current, _aware(not_before)) if not_before else current
    if customer is not None and customer.opted_out:
        status, reason, due = SUPPRESSED, OPTED_OUT, None
    else:
        if quiet_hours:
            own = customer.timezone if customer else None
            if own and not is_valid_zone(own):
                logger.warning(
                    "customer %s has an unknown timezone %r: using %s",
                    number,
                    own,
                    settings.business_tz,
                )
            tz = zone(own, settings.business_tz)
            earliest = next_allowed(earliest, parse_quiet_hours(settings.quiet_hours), tz)
        status, reason = (SCHEDULED, None) if earliest > current else (QUEUED, None)
        due = _naive_utc(earliest) if status == SCHEDULED else None
    stamp = _naive_utc(current)
    values = {
        "phone": number,
        "customer_id": customer.id if customer else None,
        "kind": kind,
        "body": body,
        "idempotency_key": idempotency_key,
        "batch": batch,
        "order_number": order_number,
        "status": status,
        "suppress_reason": reason,
        "not_before": due,
        "created_at": stamp,
        "updated_at": stamp,
    }
    if not _insert_once(session, values):
        logger.info("outbound %s %r requested again: kept the first", kind, idempotency_key)
        found = find_text(session, kind, idempotency_key)
        assert found is not None
        return _same_number(found, number)
    text_id = session.execute(
        select(OutboundText.id).where(
            OutboundText.kind == kind, OutboundText.idempotency_key == idempotency_key
        )
    ).scalar_one()
    if status == QUEUED:
        _queue(session, text_id, number, kind, body, stamp)
    logger.info(
        "outbound %s to %s: %s%s",
        kind,
        number,
        status,
        f" ({reason})" if reason else (f" until {due:%Y-%m-%d %H:%M} UTC" if due else ""),
    )
    found = get_text(session, text_id)
    assert found is not None
    return found


def _same_number(existing: OutboundView, number: str) -> OutboundView:
    """A repeated key names the same text; for another number it is a caller's mistake."""
    if existing.phone != number:
        raise OutboundRequestError(
            f"idempotency key {existing.idempotency_key!r} of kind {existing.kind!r} was "
            "used for another number"
        )
    return existing


def _insert_once(session: Session, values: Dict[str, object]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING on (kind, key): False if the key exists (a
    concurrent request with the same key waits for the first and then inserts nothing)."""
    return insert_once(session, OutboundText, values, ["kind", "idempotency_key"])


def _queue(
    session: Session, text_id: int, phone: str, kind: str, body: str, stamp: dt.datetime
) -> outbox.OutboxView:
    """The outbox row, and its id on the outbound text (one transaction)."""
    row = outbox.enqueue(session, phone, body, kind=kind, author="system", opted_out=False)
    session.execute(
        update(OutboundText)
        .where(OutboundText.id == text_id)
        .values(outbox_id=row.id, queued_at=stamp, not_before=None, updated_at=stamp)
        .execution_options(synchronize_session=False)
    )
    return row


_TAKE = (
    update(OutboundText)
    .where(OutboundText.status == SCHEDULED)
    .execution_options(synchronize_session=False)
)


def release(
    session: Session, text_id: int, now: Optional[dt.datetime] = None
) -> Optional[outbox.OutboxView]:
    """A due scheduled text into the outbox, exactly once: its first statement is a
    conditional UPDATE (scheduled -> queued), which only one transaction can win. The
    opt-out is read again now: a STOP meanwhile suppresses it. None unless queued."""
    stamp = _naive_utc(_aware(now or dt.datetime.now(dt.timezone.utc)))
    taken = session.execute(
        _TAKE.where(OutboundText.id == text_id, OutboundText.not_before <= stamp).values(
            status=QUEUED, updated_at=stamp
        )
    ).rowcount
    if not taken:
        return None
    text = session.execute(
        select(OutboundText.phone, OutboundText.kind, OutboundText.body).where(
            OutboundText.id == text_id
        )
    ).one()
    opted_out = session.execute(
        select(Customer.opted_out).where(Customer.phone == text.phone)
    ).scalar_one_or_none()
    if opted_out:
        session.execute(
            update(OutboundText)
            .where(OutboundText.id == text_id)
            .values(status=SUPPRESSED, suppress_reason=OPTED_OUT_WHILE_SCHEDULED)
            .execution_options(synchronize_session=False)
        )
        logger.info(
            "outbound %s to %s suppressed: opted out while scheduled", text.kind, text.phone
        )
        return None
    return _queue(session, text_id, text.phone, text.kind, text.body, stamp)


def _due(now: dt.datetime, limit: int):  # noqa: ANN202 - a Select
    return (
        select(OutboundText.id)
        .where(OutboundText.status == SCHEDULED, OutboundText.not_before <= now)
        .order_by(OutboundText.not_before, OutboundText.id)
        .limit(limit)
    )


def due_ids(session: Session, limit: int = 50, now: Optional[dt.datetime] = None) -> List[int]:
    """Scheduled texts whose time has come (a read: no lock, no write)."""
    stamp = _naive_utc(_aware(now or dt.datetime.now(dt.timezone.utc)))
    return list(session.execute(_due(stamp, limit)).scalars())


def release_due_postgres(
    session: Session, limit: int = 50, now: Optional[dt.datetime] = None
) -> List[outbox.OutboxView]:
    """PostgreSQL: lock up to `limit` due texts (FOR UPDATE SKIP LOCKED: another worker
    takes the others) and release them in this transaction."""
    stamp = _naive_utc(_aware(now or dt.datetime.now(dt.timezone.utc)))
    ids = session.execute(_due(stamp, limit).with_for_update(skip_locked=True)).scalars().all()
    rows = [release(session, text_id, now) for text_id in ids]
    return [row for row in rows if row is not None]


def _view(row, outbox_status, sent_at, error_code) -> OutboundView:  # noqa: ANN001
    status, reason = row.status, row.suppress_reason
    if status == QUEUED and outbox_status is not None:
        status = _FROM_OUTBOX.get(outbox_status, QUEUED)
        if status == SUPPRESSED:
            reason = OPTED_OUT_BEFORE_SEND
    return OutboundView(
        row.id,
        row.phone,
        row.kind,
        row.idempotency_key,
        row.batch,
        status,
        reason,
        row.not_before,
        row.outbox_id,
        row.created_at,
        sent_at,
        error_code,
    )


def _views(session: Session, *where) -> List[OutboundView]:  # noqa: ANN002
    rows = session.execute(
        select(
            OutboundText,
            OutboxMessage.status,
            OutboxMessage.sent_at,
            OutboxMessage.error_code,
        )
        .outerjoin(OutboxMessage, OutboxMessage.id == OutboundText.outbox_id)
        .where(*where)
        .order_by(OutboundText.id)
        .execution_options(populate_existing=True)  # rows change by Core UPDATEs
    ).all()
    return [_view(text, status, sent_at, code) for text, status, sent_at, code in rows]


def get_text(session: Session, text_id: int) -> Optional[OutboundView]:
    found = _views(session, OutboundText.id == text_id)
    return found[0] if found else None


def find_text(session: Session, kind: str, idempotency_key: str) -> Optional[OutboundView]:
    found = _views(
        session, OutboundText.kind == kind, OutboundText.idempotency_key == idempotency_key
    )
    return found[0] if found else None


def texts_of_batch(session: Session, batch: str) -> List[OutboundView]:
    return _views(session, OutboundText.batch == batch)


def batch_progress(session: Session, batch: str) -> Dict[str, int]:
    """How many texts of a list are in each status (every status listed, zeros too)."""
    counts = {status: 0 for status in STATUSES}
    for text in texts_of_batch(session, batch):
        counts[text.status] += 1
    counts["total"] = sum(counts.values())
    return counts
