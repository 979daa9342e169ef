"""Room requests for staff: list them, confirm, decline or edit one.

Every change is a row of the request's history. Confirming or declining texts the customer
the outcome through the outbound service (consent, quiet hours, the outbox), keyed by the
history row, so one status change is never texted twice; a confirm of a request that is
already confirmed changes nothing and texts nothing (409). Editing the details (dates,
guests, room, notes) is recorded but texts nobody: the customer hears when staff confirm
or decline, and that text carries the edited details.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.outbound import service
from bot.outbound.templates import (
    BOOKING_CONFIRMED,
    BOOKING_DECLINED,
    NOTE_MAX_LENGTH,
    TemplateError,
    Templates,
)
from bot.settings import Settings
from bot.sms.segments import encoding_of
from bot.store.booking_history import AGENT, HistoryEntry, history_of, link_text, record_change
from bot.store.bookings import CONFIRMED, DECLINED, REQUESTED, STATUSES
from bot.store.models import BookingRequest, Customer, utcnow
from bot.text.booking_parse import ROOM_TYPES
from bot.text.stay_span import booking_span

OUTCOME_KIND = "request_outcome"
ACTIONS = {"confirm": CONFIRMED, "decline": DECLINED}
TEMPLATE_FOR = {CONFIRMED: BOOKING_CONFIRMED, DECLINED: BOOKING_DECLINED}
# Staff may confirm a request that waits or was declined, and decline one that waits or
# was confirmed (the room fell through); a cancelled request is the customer's last word.
ALLOWED_FROM = {CONFIRMED: (REQUESTED, DECLINED), DECLINED: (REQUESTED, CONFIRMED)}
EDITABLE = (REQUESTED, CONFIRMED, DECLINED)
ROOMS = sorted(set(ROOM_TYPES.values()))
NOTES_MAX_LENGTH = 1000  # the request's own notes (the customer's special requests)
EDIT_NOTE_MAX_LENGTH = 1000  # why staff edited it (internal)
LIST_LIMIT = 200
# Typographic characters people paste, and their GSM-7 forms (one of them would make the
# whole text UCS-2: twice the segments).
_PLAIN = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "..."})


class RequestProblem(Exception):
    """A staff action that cannot be done: the HTTP status and a message for the console."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class RequestLine:
    id: int
    ref: str
    status: str
    check_in: dt.date
    check_out: dt.date
    guests: int
    room_type: Optional[str]
    notes: Optional[str]
    phone: str
    customer_name: Optional[str]
    opted_out: bool
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True)
class HistoryLine:
    id: int
    at: dt.datetime
    actor: str
    agent_name: Optional[str]
    from_status: Optional[str]
    to_status: str
    note: Optional[str]
    changed: Dict[str, List[Any]]
    text_status: Optional[str]  # the outcome text: scheduled|queued|sent|delivered|...
    text_reason: Optional[str]  # why it was suppressed


def _line(b: BookingRequest, c: Customer) -> RequestLine:
    return RequestLine(
        b.id,
        f"R{b.id}",
        b.status,
        b.check_in,
        b.check_out,
        b.guests,
        b.room_type,
        b.notes,
        c.phone,
        c.name,
        bool(c.opted_out),
        b.created_at,
        b.updated_at,
    )


def _select():  # noqa: ANN202 - a Select
    return (
        select(BookingRequest, Customer)
        .join(Customer, Customer.id == BookingRequest.customer_id)
        .execution_options(populate_existing=True)
    )


def list_requests(
    session: Session,
    status: Optional[str] = None,
    start: Optional[dt.date] = None,
    end: Optional[dt.date] = None,
    limit: int = LIST_LIMIT,
) -> List[RequestLine]:
    """Requests in `status` (any when None) whose stay overlaps start..end (either end
    open), by check-in date."""
    if status is not None and status not in STATUSES:
        raise RequestProblem(400, f"status must be one of {', '.join(STATUSES)}")
    if start and end and end < start:
        raise RequestProblem(400, "the range ends before it starts")
    query = _select()
    if status is not None:
        query = query.where(BookingRequest.status == status)
    if start is not None:
        query = query.where(BookingRequest.check_out >= start)
    if end is not None:
        query = query.where(BookingRequest.check_in <= end)
    rows = session.execute(
        query.order_by(BookingRequest.check_in, BookingRequest.id).limit(limit)
    ).all()
    return [_line(b, c) for b, c in rows]


def _history_line(session: Session, entry: HistoryEntry) -> HistoryLine:
    text = service.get_text(session, entry.outbound_text_id) if entry.outbound_text_id else None
    return HistoryLine(
        entry.id,
        entry.at,
        entry.actor,
        entry.agent_name,
        entry.from_status,
        entry.to_status,
        entry.note,
        entry.changed,
        text.status if text else None,
        text.suppress_reason if text else None,
    )


def request_detail(session: Session, request_id: int) -> Dict[str, Any]:
    """The request and its history, oldest change first."""
    found = session.execute(_select().where(BookingRequest.id == request_id)).first()
    if found is None:
        raise RequestProblem(404, "no such request")
    history = [_history_line(session, entry) for entry in history_of(session, request_id)]
    return {"request": _line(*found), "history": history, "rooms": ROOMS}


def _locked(session: Session, request_id: int) -> tuple:
    found = session.execute(
        _select().where(BookingRequest.id == request_id).with_for_update()
    ).first()
    if found is None:
        raise RequestProblem(404, "no such request")
    return found[0], found[1]


def outcome_note(note: Optional[str]) -> Optional[str]:
    """The staff's note for the customer: plain quotes and dashes, GSM-7 only, bounded."""
    text = " ".join((note or "").translate(_PLAIN).split())
    if not text:
        return None
    if len(text) > NOTE_MAX_LENGTH:
        raise RequestProblem(400, f"the note is longer than {NOTE_MAX_LENGTH} characters")
    if encoding_of(text) != "GSM-7":
        odd = sorted({ch for ch in text if encoding_of(ch) != "GSM-7"})
        raise RequestProblem(
            400,
            "the note is texted to the customer: leave out "
            + " ".join(odd)
            + " (one such character doubles the cost of the text)",
        )
    return text


def outcome_text(
    templates: Templates, booking: BookingRequest, to: str, note: Optional[str]
) -> str:
    """The text telling the customer the outcome (the designers' template, filled)."""
    guests = f"{booking.guests} guest{'s' if booking.guests != 1 else ''}"
    try:
        return templates.fill(
            TEMPLATE_FOR[to],
            note=note,
            ref=f"R{booking.id}",
            guests=guests,
            span=booking_span(booking.check_in, booking.check_out),
            room=booking.room_type or "any",
        )
    except TemplateError as problem:
        raise RequestProblem(400, str(problem)) from None


def _set_status(session: Session, booking: BookingRequest, before: str, to: str) -> None:
    """Conditional on the status read: two staff acting at once cannot both change it."""
    changed = session.execute(
        update(BookingRequest)
        .where(BookingRequest.id == booking.id, BookingRequest.status == before)
        .values(status=to, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        raise RequestProblem(409, f"R{booking.id} was changed meanwhile: reload it")


def change_status(
    session: Session,
    settings: Settings,
    templates: Templates,
    request_id: int,
    agent_id: int,
    action: str,
    note: Optional[str],
) -> Dict[str, Any]:
    """Confirm or decline a request with an optional note; history row + outcome text."""
    to = ACTIONS.get(action)
    if to is None:
        raise RequestProblem(400, f"action must be one of {', '.join(ACTIONS)}")
    note = outcome_note(note)
    booking, customer = _locked(session, request_id)
    before = booking.status
    if before == to:
        raise RequestProblem(409, f"R{booking.id} is already {to}")
    if before not in ALLOWED_FROM[to]:
        raise RequestProblem(409, f"R{booking.id} is {before}: it cannot be {to}")
    body = outcome_text(templates, booking, to, note)
    _set_status(session, booking, before, to)
    history_id = record_change(
        session, booking.id, AGENT, to, from_status=before, agent_id=agent_id, note=note
    )
    text = service.request_text(
        session,
        settings,
        phone=customer.phone,
        kind=OUTCOME_KIND,
        body=body,
        idempotency_key=f"booking_request:{booking.id}:change:{history_id}",
    )
    link_text(session, history_id, text.id)
    detail = request_detail(session, booking.id)
    detail["text"] = {
        "status": text.status,
        "reason": text.suppress_reason,
        "not_before": text.not_before,
        "body": body,
    }
    return detail


def _date(value: Any, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise RequestProblem(400, f"{what} must be a date like 2026-12-05") from None


def _edited(settings: Settings, booking: BookingRequest, fields: Dict[str, Any]) -> Dict[str, Any]:
    """The new values of the fields that change, validated like the room-request form."""
    unknown = set(fields) - {"check_in", "check_out", "guests", "room_type", "notes"}
    if unknown:
        raise RequestProblem(400, f"cannot edit {', '.join(sorted(unknown))}")
    new: Dict[str, Any] = {}
    if "check_in" in fields:
        new["check_in"] = _date(fields["check_in"], "check_in")
    if "check_out" in fields:
        new["check_out"] = _date(fields["check_out"], "check_out")
    if "guests" in fields:
        guests = fields["guests"]
        if type(guests) is not int or not 1 <= guests <= settings.max_booking_guests:
            raise RequestProblem(400, f"guests must be 1 to {settings.max_booking_guests}")
        new["guests"] = guests
    if "room_type" in fields:
        room = fields["room_type"] or None
        if room is not None and room not in ROOMS:
            raise RequestProblem(400, f"room_type must be one of {', '.join(ROOMS)} or empty")
        new["room_type"] = room
    if "notes" in fields:
        notes = fields["notes"]
        if notes is not None and not isinstance(notes, str):
            raise RequestProblem(400, "notes must be a text")
        notes = (notes or "").strip() or None
        if notes and len(notes) > NOTES_MAX_LENGTH:
            raise RequestProblem(400, f"notes are longer than {NOTES_MAX_LENGTH} characters")
        new["notes"] = notes
    check_in = new.get("check_in", booking.check_in)
    check_out = new.get("check_out", booking.check_out)
    nights = (check_out - check_in).days
    if nights < 1:
        raise RequestProblem(400, "check-out must be after check-in")
    if nights > settings.max_booking_nights:
        raise RequestProblem(400, f"a request is at most {settings.max_booking_nights} nights")
    return {key: value for key, value in new.items() if getattr(booking, key) != value}


def edit_request(
    session: Session,
    settings: Settings,
    request_id: int,
    agent_id: int,
    fields: Dict[str, Any],
    note: Optional[str],
) -> Dict[str, Any]:
    """Change a request's details (recorded with the old and new values); texts nobody."""
    note = (note or "").strip() or None
    if note and len(note) > EDIT_NOTE_MAX_LENGTH:
        raise RequestProblem(400, f"the note is longer than {EDIT_NOTE_MAX_LENGTH} characters")
    booking, _customer = _locked(session, request_id)
    if booking.status not in EDITABLE:
        raise RequestProblem(409, f"R{booking.id} is {booking.status}: it cannot be edited")
    new = _edited(settings, booking, fields)
    if not new:
        raise RequestProblem(400, "nothing changed")
    changed = {key: [getattr(booking, key), value] for key, value in new.items()}
    before = booking.status
    for key, value in new.items():
        setattr(booking, key, value)
    booking.updated_at = utcnow()
    session.flush()
    record_change(
        session,
        booking.id,
        AGENT,
        before,
        from_status=before,
        agent_id=agent_id,
        note=note,
        changed=changed,
    )
    return request_detail(session, booking.id)
