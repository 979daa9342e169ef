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
from typing import Any, Dict, List, Optional, Sequence, Union

from sqlalchemy import and_, bindparam, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, aliased

from bot.sms.segments import sms_info, trim_to_budget
from bot.store.conversations import conversation_id_for
from bot.store.customers import is_opted_out, set_opted_out
from bot.store.models import Customer, DeliveryReport, Message, OutboxMessage, utcnow

QUEUED, SENDING, SENT = "queued", "sending", "sent"
DELIVERED, UNDELIVERED, FAILED, SUPPRESSED = "delivered", "undelivered", "failed", "suppressed"
FINAL = {DELIVERED, UNDELIVERED, FAILED, SUPPRESSED}
# Kinds that reach an opted-out number: the one opt-out confirmation, and the answer to
# a HELP the customer sent (CTIA: HELP is answered whatever the opt-in state).
OPT_OUT_EXEMPT = {"optout_confirmation", "help"}
# What the hot-path functions run on: an ORM session or a Core connection (db.py).
Executor = Union[Session, Connection]
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


def _view(row: Any) -> OutboxView:
    """From an OutboxMessage, or a row of its columns."""
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


_INSERT_MESSAGE = insert(Message)
_INSERT_OUTBOX = insert(OutboxMessage)
_WAITING_OR_IN_FLIGHT = (
    select(OutboxMessage.id)
    .where(OutboxMessage.phone == bindparam("phone"), OutboxMessage.status.in_([QUEUED, SENDING]))
    .limit(1)
)


def enqueue(
    session: Executor,
    phone: str,
    text: str,
    *,
    kind: str = "reply",
    author: str = "bot",
    in_reply_to: Optional[int] = None,
    buttons: Optional[Sequence[Dict[str, str]]] = None,
    segment_budget: Optional[int] = None,
    claim: bool = False,
    conversation_id: Optional[int] = None,
    opted_out: Optional[bool] = None,
) -> OutboxView:
    """Queue one SMS (trimmed to the segment budget, the rest kept for MORE).

    With `claim`, the row is taken for sending at once (status `sending`, for the caller's
    worker to deliver) unless an older row of that phone is still waiting or in flight.
    `conversation_id` and `opted_out`, when the caller already read them, save a query each.
    """
    overflow = None
    if segment_budget:
        text, overflow = trim_to_budget(text, segment_budget)
    info = sms_info(text)
    now = utcnow()
    transcript = {
        "conversation_id": conversation_id or conversation_id_for(session, phone),
        "direction": "out",
        "author": author,
        "text": text,
        "status": "out",
        "created_at": now,
    }
    transcript_id = session.execute(_INSERT_MESSAGE, transcript).inserted_primary_key[0]
    if kind in OPT_OUT_EXEMPT:
        suppressed = False
    else:
        suppressed = opted_out if opted_out is not None else is_opted_out(session, phone)
    status = SUPPRESSED if suppressed else QUEUED
    if claim and not suppressed:
        if session.execute(_WAITING_OR_IN_FLIGHT, {"phone": phone}).first() is None:
            status = SENDING
    sending = status == SENDING
    values = {
        "message_id": transcript_id,
        "in_reply_to": in_reply_to,
        "phone": phone,
        "text": text,
        "kind": kind,
        "encoding": info.encoding,
        "segments": info.segments,
        "buttons": json.dumps(list(buttons)) if buttons else None,
        "overflow": overflow,
        "status": status,
        "attempts": 1 if sending else 0,
        "ambiguous": False,
        "error": "recipient opted out" if suppressed else None,
        "next_attempt_at": now,
        "last_attempt_at": now if sending else None,
        "created_at": now,
        "updated_at": now,
    }
    row_id = session.execute(_INSERT_OUTBOX, values).inserted_primary_key[0]
    return OutboxView(
        row_id,
        phone,
        text,
        kind,
        status,
        values["attempts"],
        False,
        info.segments,
        info.encoding,
        list(buttons or []),
        overflow,
        None,
        values["last_attempt_at"],
        None,
        now,
    )


def claim_due(
    session: Session, limit: int = 20, busy_phones: Sequence[str] = ()
) -> List[OutboxView]:
    """Claim due rows, at most one per phone, never overtaking an older row of that phone.

    A row for a number that opted out meanwhile is marked `suppressed` instead of claimed.
    """
    now = utcnow()
    due = (OutboxMessage.status == QUEUED) & (OutboxMessage.next_attempt_at <= now)
    if session.execute(select(OutboxMessage.id).where(due).limit(1)).first() is None:
        return []  # the usual case: replies are claimed when queued (enqueue(claim=True))
    older = aliased(OutboxMessage)
    candidates = session.execute(
        select(OutboxMessage.id, OutboxMessage.phone, OutboxMessage.kind, Customer.opted_out)
        .outerjoin(Customer, Customer.phone == OutboxMessage.phone)
        .where(
            due,
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


def _set(session: Executor, row_id: int, **values: object) -> None:
    values["updated_at"] = utcnow()
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


_EARLY_REPORTS = (
    select(DeliveryReport.status, DeliveryReport.error_code)
    .where(DeliveryReport.provider_uuid == bindparam("uuid"))
    .order_by(DeliveryReport.id)
)


_MARK_SENT = (
    update(OutboxMessage)
    .where(OutboxMessage.id == bindparam("row_id"))
    .values(
        status=SENT,
        provider_uuid=bindparam("uuid"),
        sent_at=bindparam("at"),
        updated_at=bindparam("at"),
        ambiguous=False,
        error=None,
    )
    .execution_options(synchronize_session=False)
)


def mark_sent(session: Executor, row_id: int, provider_uuid: str) -> None:
    """Plivo accepted the row; reports that arrived before we knew the uuid apply now."""
    session.execute(_MARK_SENT, {"row_id": row_id, "uuid": provider_uuid, "at": utcnow()})
    for status, code in session.execute(_EARLY_REPORTS, {"uuid": provider_uuid}).all():
        _apply_report(session, provider_uuid, status, code)


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


_INSERT_REPORT = insert(DeliveryReport)
_PHONE_BY_UUID = select(OutboxMessage.phone).where(OutboxMessage.provider_uuid == bindparam("uuid"))


def _status_update(downgrade_guard: bool, with_error: bool) -> Any:
    """UPDATE of the row with a provider uuid (prebuilt: one per shape)."""
    statement = update(OutboxMessage).where(OutboxMessage.provider_uuid == bindparam("uuid"))
    if downgrade_guard:  # a late "sent" must not downgrade a final state
        statement = statement.where(OutboxMessage.status.notin_(FINAL))
    values = {"status": bindparam("new_status"), "updated_at": bindparam("at")}
    if with_error:
        values["error_code"] = bindparam("code")
    return statement.values(**values).execution_options(synchronize_session=False)


_STATUS_UPDATES = {(g, e): _status_update(g, e) for g in (False, True) for e in (False, True)}


def apply_status_callback(
    session: Executor, provider_uuid: str, plivo_status: str, error_code: Optional[str]
) -> bool:
    """Record a delivery report; False if the message is not (yet) known."""
    now = utcnow()
    report = {
        "provider_uuid": provider_uuid,
        "status": plivo_status[:20],
        "error_code": error_code or None,
        "received_at": now,
    }
    session.execute(_INSERT_REPORT, report)
    return _apply_report(session, provider_uuid, plivo_status, error_code)


def _apply_report(
    session: Executor, provider_uuid: str, plivo_status: str, error_code: Optional[str]
) -> bool:
    """A delivery report onto its outbox row (never downgrading a final state); False if
    no row has that uuid (yet)."""
    status = status_from_callback(plivo_status)
    if status is not None:
        statement = _STATUS_UPDATES[(status == SENT, bool(error_code))]
        params = {"uuid": provider_uuid, "new_status": status, "at": utcnow(), "code": error_code}
        changed = session.execute(statement, params).rowcount
        if changed and error_code != CARRIER_OPTED_OUT:
            return True
    phone = session.execute(_PHONE_BY_UUID, {"uuid": provider_uuid}).scalar_one_or_none()
    if phone is None:
        return False
    if error_code == CARRIER_OPTED_OUT:
        set_opted_out(session, phone, True)
    return True


_LATEST_FOR_PHONE = (
    select(*OutboxMessage.__table__.c)
    .where(OutboxMessage.phone == bindparam("phone"))
    .order_by(OutboxMessage.id.desc())
    .limit(1)
)


def latest_for_phone(session: Executor, phone: str) -> Optional[OutboxView]:
    row = session.execute(_LATEST_FOR_PHONE, {"phone": phone}).first()
    return _view(row) if row else None


def take_overflow(session: Executor, phone: str) -> Optional[str]:
    """The rest of the latest long reply (for MORE), cleared once taken."""
    row = session.execute(
        select(OutboxMessage.id, OutboxMessage.overflow)
        .where(OutboxMessage.phone == phone, OutboxMessage.overflow.isnot(None))
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    _set(session, row.id, overflow=None)
    return row.overflow


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
