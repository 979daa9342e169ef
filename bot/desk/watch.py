"""What changed since a console last looked: desk events (by id, re-checking ids that were
still uncommitted), new texts, and outbox status changes; all read from the database."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set, Tuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.store.events import EventView, events_since, latest_event_id
from bot.store.models import Conversation, DeskEvent, Message, OutboxMessage, utcnow

GAP_SECONDS = 10.0  # an id still missing after this was rolled back, not slow to commit
OUTBOX_OVERLAP = dt.timedelta(seconds=5)  # re-read recent rows (commit delay, clock skew)
OUTBOX_MEMORY = dt.timedelta(seconds=90)
# Status changes are looked for among the newest outbox rows only (outbox.updated_at has no
# index); a delivery report for an older row shows on the next refetch of that conversation.
OUTBOX_WINDOW_ROWS = 5000


@dataclass(frozen=True)
class Change:
    """One thing a console should refetch for: a desk event or a `conversation` change."""

    kind: str
    conversation_id: Optional[int] = None
    agent_id: Optional[int] = None
    team: Optional[str] = None
    event_id: Optional[int] = None


@dataclass
class FeedCursor:
    """Where one live stream is in the database's history."""

    last_event_id: int
    last_message_id: int
    outbox_since: dt.datetime
    gaps: Dict[int, float] = field(default_factory=dict)
    outbox_seen: Dict[int, Tuple[str, dt.datetime]] = field(default_factory=dict)


CONVERSATION_ONLY_KINDS = frozenset({"agent_reply", "note"})  # lists: only unread/preview


def topics(change: Change) -> List[str]:
    """What a console should refetch for a change: queue, my_chats, conversation, agent_status."""
    if change.kind in ("agent_status", "conversation"):
        return [change.kind]
    found = ["my_chats"] if change.kind in CONVERSATION_ONLY_KINDS else ["queue", "my_chats"]
    if change.conversation_id is not None:
        found.append("conversation")
    return found


def open_cursor(session: Session, last_event_id: Optional[int] = None) -> FeedCursor:
    """A cursor at `last_event_id` (a reconnecting browser's) or at the newest event."""
    newest = latest_event_id(session)
    start = newest if last_event_id is None else max(0, min(int(last_event_id), newest))
    last_message = session.execute(select(func.max(Message.id))).scalar() or 0
    return FeedCursor(start, int(last_message), utcnow())


def _event_change(event: EventView) -> Change:
    return Change(event.kind, event.conversation_id, event.agent_id, event.team, event.id)


def _events(session: Session, cursor: FeedCursor) -> List[Change]:
    changes: List[Change] = []
    now = time.monotonic()
    if cursor.gaps:
        late = session.execute(
            select(DeskEvent).where(DeskEvent.id.in_(list(cursor.gaps))).order_by(DeskEvent.id)
        ).scalars()
        for row in late:
            cursor.gaps.pop(row.id, None)
            changes.append(Change(row.kind, row.conversation_id, row.agent_id, row.team, row.id))
        cursor.gaps = {i: t for i, t in cursor.gaps.items() if now - t < GAP_SECONDS}
    for event in events_since(session, cursor.last_event_id):
        for missing in range(cursor.last_event_id + 1, event.id):
            cursor.gaps.setdefault(missing, now)
        cursor.last_event_id = event.id
        changes.append(_event_change(event))
    return changes


def _messages(session: Session, cursor: FeedCursor) -> Set[int]:
    rows = session.execute(
        select(Message.id, Message.conversation_id)
        .where(Message.id > cursor.last_message_id)
        .order_by(Message.id)
        .limit(500)
    ).all()
    for message_id, _conversation_id in rows:
        cursor.last_message_id = max(cursor.last_message_id, message_id)
    return {conversation_id for _id, conversation_id in rows}


def _outbox(session: Session, cursor: FeedCursor) -> Set[int]:
    now = utcnow()
    newest = session.execute(select(func.max(OutboxMessage.id))).scalar() or 0
    rows = session.execute(
        select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.updated_at, Conversation.id)
        .join(Conversation, Conversation.phone == OutboxMessage.phone)
        .where(
            OutboxMessage.id > newest - OUTBOX_WINDOW_ROWS,  # a primary-key range, not a scan
            OutboxMessage.updated_at >= cursor.outbox_since - OUTBOX_OVERLAP,
        )
    ).all()
    changed: Set[int] = set()
    for row_id, status, updated_at, conversation_id in rows:
        seen = cursor.outbox_seen.get(row_id)
        if seen is None or seen[0] != status:
            changed.add(conversation_id)
        cursor.outbox_seen[row_id] = (status, updated_at)
    cursor.outbox_since = now
    horizon = now - OUTBOX_MEMORY
    cursor.outbox_seen = {i: s for i, s in cursor.outbox_seen.items() if s[1] >= horizon}
    return changed


def poll(session: Session, cursor: FeedCursor) -> List[Change]:
    """Everything new since the cursor (which moves on): desk events first, then one
    `conversation` change per conversation with new texts or reply statuses."""
    changes = _events(session, cursor)
    touched = _messages(session, cursor) | _outbox(session, cursor)
    changes.extend(Change("conversation", conversation_id) for conversation_id in sorted(touched))
    return changes
