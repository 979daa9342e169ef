"""One conversation as the console shows it: every text both ways (with the outbox status of
each reply), internal notes, ownership changes, and the handoff that brought it here."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.desk.agents import list_agents
from bot.desk.unanswered import TAKEN_KINDS
from bot.outbound.notifications import NOTIFICATION_KINDS
from bot.store.models import Conversation, DeskEvent, HandoffRequest, Message, Note, OutboxMessage

logger = logging.getLogger(__name__)

MAX_MESSAGES = 500
ACTIVITY_KINDS = (
    "queued",
    "claimed",
    "assigned",
    "transferred",
    "reassigned",
    "resolved",
    "requeued",
    "returned_to_bot",
)


@dataclass(frozen=True)
class Entry:
    """A line of the transcript: a text (`message`), an internal `note`, or an `activity`."""

    kind: str
    id: int
    at: dt.datetime
    author: str
    author_label: str
    text: str
    direction: Optional[str] = None
    status: Optional[str] = None
    sms_kind: Optional[str] = None
    segments: Optional[int] = None
    encoding: Optional[str] = None
    error: Optional[str] = None
    media: List[str] = field(default_factory=list)
    notification: bool = False  # a text the business started (order shipped, reminder...)


@dataclass(frozen=True)
class HandoffInfo:
    """Why and when the conversation went to people."""

    id: int
    reason: str
    team: str
    detail: Optional[str]
    status: str
    agent_name: Optional[str]
    created_at: dt.datetime
    claimed_at: Optional[dt.datetime]
    first_reply_at: Optional[dt.datetime]
    resolved_at: Optional[dt.datetime]
    automatic: bool = False  # the desk assigned it to `agent_name`; nobody claimed it
    # who holds it now, from the latest ownership event: ("Transferred to", "Bob Chen")
    holder_label: Optional[str] = None
    holder: Optional[str] = None


@dataclass(frozen=True)
class ConversationDetail:
    """Everything the center column shows."""

    id: int
    phone: str
    owner: str
    agent_id: Optional[int]
    agent_name: Optional[str]
    team: Optional[str]
    queued_at: Optional[dt.datetime]
    handoff: Optional[HandoffInfo]
    history: List[HandoffInfo]
    entries: List[Entry]
    last_message_id: int


NOTIFICATION_LABEL = "Notification"


def _author_label(author: str, names: Dict[int, str]) -> str:
    if author == "customer":
        return "Customer"
    if author == "bot":
        return "Bot"
    if author.startswith("agent:"):
        try:
            return names.get(int(author.split(":", 1)[1]), "Agent")
        except ValueError:
            return "Agent"
    return author.capitalize() or "System"


def _transferred(event: DeskEvent, names: Dict[int, str]) -> str:
    """'Dana transferred to bookings' / 'Dana transferred to Sam'."""
    team = event.team or "general"
    actor = event.actor_id
    if actor is None:  # recorded before actor_id existed
        return f"Transferred (now {names.get(event.agent_id or 0, team)}, team {team})"
    by = names.get(actor, "An agent")
    if event.agent_id is None or event.agent_id == actor:
        return f"{by} transferred to {team}"
    return f"{by} transferred to {names.get(event.agent_id, 'an agent')}"


def _reassigned(event: DeskEvent, names: Dict[int, str]) -> str:
    """'Reassigned from Dana to Sam by Pat (supervisor)'."""
    to = names.get(event.agent_id or 0, "an agent")
    source = f" from {names.get(event.from_agent_id, 'an agent')}" if event.from_agent_id else ""
    by = f"{names[event.actor_id]} (supervisor)" if event.actor_id in names else "a supervisor"
    return f"Reassigned{source} to {to} by {by}"


def _activity_text(event: DeskEvent, names: Dict[int, str]) -> str:
    who = names.get(event.agent_id or 0, "an agent")
    team = event.team or "general"
    if event.kind == "transferred":
        return _transferred(event, names)
    if event.kind == "reassigned":
        return _reassigned(event, names)
    return {
        "queued": f"Handed to the {team} queue",
        "claimed": f"Claimed by {who}",
        "assigned": f"Assigned to {who} (automatic)",
        "resolved": f"Resolved by {who}; back with the bot",
        "requeued": f"Back in the {team} queue ({who} went offline)",
        "returned_to_bot": "The customer chose to continue with the bot",
    }.get(event.kind, event.kind)


def _holder(event: DeskEvent, names: Dict[int, str]) -> Tuple[str, str]:
    """How the current holder got the chat, and who (or which queue) it is."""
    who = names.get(event.agent_id or 0, "an agent")
    queue = f"{event.team or 'general'} queue"
    if event.kind == "assigned":
        return "Assigned to", f"{who} (automatic)"
    if event.kind == "transferred":
        to_queue = event.agent_id is None or event.agent_id == event.actor_id
        return "Transferred to", queue if to_queue else who
    if event.kind == "reassigned":
        return "Reassigned to", who
    if event.kind == "requeued":
        return "Back in", queue
    return "Claimed by", who


def safe_media_urls(raw: Optional[str], message_id: int = 0) -> List[str]:
    """The http(s) picture URLs stored with a text; anything else is dropped and logged."""
    if not raw:
        return []
    try:
        urls = json.loads(raw)
    except ValueError:
        urls = None
    if not isinstance(urls, list):
        logger.warning("message %s: media is not a JSON list; not shown", message_id)
        return []
    safe = []
    for url in urls:
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is not None and parts.scheme in ("http", "https") and parts.netloc:
            safe.append(url)
        else:
            logger.warning("message %s: media URL %.80r is not http(s); not shown", message_id, url)
    return safe


def _handoff_info(row: HandoffRequest, names: Dict[int, str]) -> HandoffInfo:
    return HandoffInfo(
        row.id,
        row.reason,
        row.team,
        row.detail,
        row.status,
        names.get(row.agent_id) if row.agent_id else None,
        row.created_at,
        row.claimed_at,
        row.first_reply_at,
        row.resolved_at,
    )


def _messages(session: Session, conversation_id: int, names: Dict[int, str]) -> List[Entry]:
    rows = session.execute(
        select(Message, OutboxMessage)
        .outerjoin(OutboxMessage, OutboxMessage.message_id == Message.id)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.id.desc())
        .limit(MAX_MESSAGES)
    ).all()
    entries = []
    for message, out in reversed(rows):
        notice = out is not None and out.kind in NOTIFICATION_KINDS
        media = safe_media_urls(message.media, message.id)
        text = message.text or ("[picture]" if message.kind == "mms" and not media else "")
        entries.append(
            Entry(
                "message",
                message.id,
                message.created_at,
                message.author,
                NOTIFICATION_LABEL if notice else _author_label(message.author, names),
                text,
                direction=message.direction,
                status=out.status if out is not None else message.status,
                sms_kind=out.kind if out is not None else message.kind,
                segments=out.segments if out is not None else None,
                encoding=out.encoding if out is not None else None,
                error=(out.error if out is not None else message.error) or None,
                media=media,
                notification=notice,
            )
        )
    return entries


def conversation_detail(session: Session, conversation_id: int) -> Optional[ConversationDetail]:
    """The whole conversation; None if it does not exist."""
    conversation = session.get(Conversation, conversation_id, populate_existing=True)
    if conversation is None:
        return None
    names = {a.id: a.name for a in list_agents(session)}
    entries = _messages(session, conversation_id, names)
    first_at = entries[0].at if len(entries) >= MAX_MESSAGES else None
    notes = session.execute(
        select(Note).where(Note.conversation_id == conversation_id).order_by(Note.id)
    ).scalars()
    for note in notes:
        if first_at is None or note.created_at >= first_at:
            author = f"agent:{note.agent_id}" if note.agent_id else "system"
            entries.append(
                Entry(
                    "note",
                    note.id,
                    note.created_at,
                    author,
                    _author_label(author, names),
                    note.text,
                )
            )
    events = session.execute(
        select(DeskEvent)
        .where(DeskEvent.conversation_id == conversation_id, DeskEvent.kind.in_(ACTIVITY_KINDS))
        .order_by(DeskEvent.id)
    ).scalars()
    events_seen = list(events)
    for event in events_seen:
        if first_at is None or event.created_at >= first_at:
            entries.append(
                Entry(
                    "activity",
                    event.id,
                    event.created_at,
                    "system",
                    "Desk",
                    _activity_text(event, names),
                )
            )
    order = {"message": 0, "activity": 1, "note": 2}
    entries.sort(key=lambda e: (e.at, order[e.kind], e.id))
    history_rows = list(
        session.execute(
            select(HandoffRequest)
            .where(HandoffRequest.phone == conversation.phone)
            .order_by(HandoffRequest.id.desc())
            .limit(20)
        ).scalars()
    )
    history = [_handoff_info(row, names) for row in history_rows]
    current = next((h for h in history if h.id == conversation.handoff_id), None)
    taken = [e for e in events_seen if e.kind in TAKEN_KINDS + ("requeued",)]
    if current is not None and taken:
        label, holder = _holder(taken[-1], names)
        current = dataclasses.replace(
            current, automatic=taken[-1].kind == "assigned", holder_label=label, holder=holder
        )
    last_message_id = max((e.id for e in entries if e.kind == "message"), default=0)
    return ConversationDetail(
        conversation.id,
        conversation.phone,
        conversation.owner,
        conversation.agent_id,
        names.get(conversation.agent_id) if conversation.agent_id else None,
        conversation.team,
        conversation.queued_at,
        current or (history[0] if history else None),
        history,
        entries,
        last_message_id,
    )
