"""The outbox: every outgoing SMS (bot, agent, notification) is a row here first.

queued -> sending -> sent -> delivered | undelivered | failed, or `suppressed` when the
number opted out. A row is claimed with a conditional UPDATE, so several workers (or
processes) never send the same row; `ambiguous` marks a send that may have reached
Plivo (timeout after the request went out), checked before any resend.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session, aliased

from bot.conversations import get_or_create_conversation
from bot.customers import is_opted_out, set_opted_out
from bot.models import Customer, DeliveryReport, Message, OutboxMessage, utcnow
from bot.sms_segments import sms_info, trim_to_budget

QUEUED, SENDING, SENT = "queued", "sending", "sent"
DELIVERED, UNDELIVERED, FAILED, SUPPRESSED = "delivered", "undelivered", "failed", "suppressed"
FINAL = {DELIVERED, UNDELIVERED, FAILED, SUPPRESSED}
# Kinds that reach an opted-out number: the one opt-out confirmation, and the answer to
# a HELP the customer sent (CTIA: HELP is answered whatever the opt-in state).
OPT_OUT_EXEMPT = {"optout_confirmation", "help"}
# Plivo/carrier error: destination has opted out.
CARRIER_OPTED_OUT = "200"


@dataclass(frozen=True)
class OutboxView:
    id: int
    phone: str
    text: str
    kind: str
    status: str
    attempts: int
    ambiguous: bool
    segments: int
    encoding: str
    buttons: List[Dict[str, str]]
    overflow: Optional[str]
    provider_uuid: Optional[str]
    last_attempt_at: Optional[dt.datetime]
    error_code: Optional[str] = None
    created_at: Optional[dt.datetime] = None


def _view(row: OutboxMessage) -> OutboxView:
    return OutboxView(
        row.id,
        row.phone,
        row.text,
        row.kind,
        row.status,
        row.attempts,
        row.ambiguous,
        row.segments,
        row.encoding,
        json.loads(row.buttons) if row.buttons else [],
        row.overflow,
        row.provider_uuid,
        row.last_attempt_at,
        row.error_code,
        row.created_at,
    )


def enqueue(
    session: Session,
    phone: str,
    text: str,
    *,
    kind: str = "reply",
    author: str = "bot",
    in_reply_to: Optional[int] = None,
    buttons: Optional[Sequence[Dict[str, str]]] = None,
    segment_budget: Optional[int] = None,
) -> OutboxView:
    """Queue one SMS (trimmed to the segment budget, the rest kept for MORE)."""
    overflow = None
    if segment_budget:
        text, overflow = trim_to_budget(text, segment_budget)
    info = sms_info(text)
    conversation = get_or_create_conversation(session, phone)
    transcript = Message(
        conversation_id=conversation.id,
        direction="out",
        author=author,
        text=text,
        status="out",
    )
    session.add(transcript)
    session.flush()
    suppressed = kind not in OPT_OUT_EXEMPT and is_opted_out(session, phone)
    row = OutboxMessage(
        message_id=transcript.id,
        in_reply_to=in_reply_to,
        phone=phone,
        text=text,
        kind=kind,
        encoding=info.encoding,
        segments=info.segments,
        buttons=json.dumps(list(buttons)) if buttons else None,
        overflow=overflow,
        status=SUPPRESSED if suppressed else QUEUED,
        error="recipient opted out" if suppressed else None,
    )
    session.add(row)
    session.flush()
    return _view(row)


def claim_due(
    session: Session, limit: int = 20, busy_phones: Sequence[str] = ()
) -> List[OutboxView]:
    """Claim due rows, at most one per phone, never overtaking an older row of that phone.

    A row for a number that opted out meanwhile is marked `suppressed` instead of claimed.
    """
    now = utcnow()
    older = aliased(OutboxMessage)
    candidates = session.execute(
        select(OutboxMessage.id, OutboxMessage.phone, OutboxMessage.kind, Customer.opted_out)
        .outerjoin(Customer, Customer.phone == OutboxMessage.phone)
        .where(
            OutboxMessage.status == QUEUED,
            OutboxMessage.next_attempt_at <= now,
            ~select(older.id)
            .where(
                and_(
                    older.phone == OutboxMessage.phone,
                    older.id < OutboxMessage.id,
                    older.status.in_([QUEUED, SENDING]),
                )
            )
            .exists(),
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    claimed: List[OutboxView] = []
    seen = set(busy_phones)
    for row_id, phone, kind, opted_out in candidates:
        if phone in seen:
            continue
        if opted_out and kind not in OPT_OUT_EXEMPT:
            mark_suppressed(session, row_id)
            continue
        taken = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id, OutboxMessage.status == QUEUED)
            .values(
                status=SENDING,
                attempts=OutboxMessage.attempts + 1,
                last_attempt_at=now,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if taken:
            seen.add(phone)
            claimed.append(_view(session.get(OutboxMessage, row_id, populate_existing=True)))
    return claimed


def reclaim_stale(session: Session, lease: dt.timedelta) -> int:
    """`sending` rows whose worker died: back to the queue, flagged as maybe-sent."""
    cutoff = utcnow() - lease
    return session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == SENDING, OutboxMessage.last_attempt_at < cutoff)
        .values(status=QUEUED, ambiguous=True, next_attempt_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount


def _set(session: Session, row_id: int, **values: object) -> None:
    values["updated_at"] = utcnow()
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def mark_sent(session: Session, row_id: int, provider_uuid: str) -> None:
    """Plivo accepted the row; reports that arrived before we knew the uuid apply now."""
    _set(
        session,
        row_id,
        status=SENT,
        provider_uuid=provider_uuid,
        sent_at=utcnow(),
        ambiguous=False,
        error=None,
    )
    early = (
        session.execute(
            select(DeliveryReport)
            .where(DeliveryReport.provider_uuid == provider_uuid)
            .order_by(DeliveryReport.id)
        )
        .scalars()
        .all()
    )
    if early:
        row = session.get(OutboxMessage, row_id, populate_existing=True)
        for report in early:
            _apply(session, row, report.status, report.error_code)


def mark_retry(
    session: Session, row_id: int, error: str, delay: dt.timedelta, ambiguous: bool
) -> None:
    values: Dict[str, object] = {
        "status": QUEUED,
        "error": error[:2000],
        "next_attempt_at": utcnow() + delay,
    }
    if ambiguous:
        values["ambiguous"] = True
    _set(session, row_id, **values)


def mark_failed(session: Session, row_id: int, error: str, code: Optional[str] = None) -> None:
    _set(session, row_id, status=FAILED, error=error[:2000], error_code=code)


def mark_suppressed(session: Session, row_id: int) -> None:
    _set(session, row_id, status=SUPPRESSED, error="recipient opted out")


def status_from_callback(plivo_status: str) -> Optional[str]:
    return {
        "queued": SENT,
        "sent": SENT,
        "delivered": DELIVERED,
        "undelivered": UNDELIVERED,
        "failed": FAILED,
        "rejected": FAILED,
    }.get((plivo_status or "").lower())


def apply_status_callback(
    session: Session, provider_uuid: str, plivo_status: str, error_code: Optional[str]
) -> bool:
    """Record a delivery report; False if the message is not (yet) known."""
    session.add(
        DeliveryReport(
            provider_uuid=provider_uuid, status=plivo_status[:20], error_code=(error_code or None)
        )
    )
    row = session.execute(
        select(OutboxMessage).where(OutboxMessage.provider_uuid == provider_uuid)
    ).scalar_one_or_none()
    if row is None:
        return False
    _apply(session, row, plivo_status, error_code)
    return True


def _apply(
    session: Session, row: OutboxMessage, plivo_status: str, error_code: Optional[str]
) -> None:
    status = status_from_callback(plivo_status)
    if status is None or (row.status in FINAL and status == SENT):
        return  # unknown status, or a late "sent" that must not downgrade a final state
    row.status = status
    row.error_code = error_code or row.error_code
    row.updated_at = utcnow()
    if error_code == CARRIER_OPTED_OUT:
        set_opted_out(session, row.phone, True)


def latest_for_phone(session: Session, phone: str) -> Optional[OutboxView]:
    row = session.execute(
        select(OutboxMessage)
        .where(OutboxMessage.phone == phone)
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return _view(row) if row else None


def take_overflow(session: Session, phone: str) -> Optional[str]:
    """The rest of the latest long reply (for MORE), cleared once taken."""
    row = session.execute(
        select(OutboxMessage)
        .where(OutboxMessage.phone == phone, OutboxMessage.overflow.isnot(None))
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if row is None:
        return None
    rest, row.overflow = row.overflow, None
    return rest


def known_uuids(session: Session, uuids: Sequence[str]) -> set:
    if not uuids:
        return set()
    return set(
        session.execute(
            select(OutboxMessage.provider_uuid).where(OutboxMessage.provider_uuid.in_(uuids))
        ).scalars()
    )


def get_row(session: Session, row_id: int) -> Optional[OutboxView]:
    row = session.get(OutboxMessage, row_id, populate_existing=True)
    return _view(row) if row else None


def rows_for_phone(session: Session, phone: str) -> List[OutboxView]:
    rows = session.execute(
        select(OutboxMessage).where(OutboxMessage.phone == phone).order_by(OutboxMessage.id)
    ).scalars()
    return [_view(r) for r in rows]
