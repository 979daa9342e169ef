"""Rasa's SQLTrackerStore with per-message work bounded by the current session, not the history.

Rasa 3.6 finds a sender's current session with a max over all of the sender's events (on an
index of `sender_id` alone, so every event the customer ever had is visited), reads the session
with the same filter, and counts the session's events again on every save to know which are
new. Here:

- the latest `session_started` comes from an index on (sender_id, type_name, timestamp),
  ORDER BY timestamp DESC LIMIT 1: one index entry, not a max over the whole history;
- the session's events come from an index on (sender_id, timestamp), same rows as Rasa's
  (timestamp >= the session start, in id order);
- a tracker that was read here remembers how many of its events are stored, so saving it
  writes the rest without counting (a tracker built elsewhere still gets Rasa's count).

The indexes are created at start-up (IF NOT EXISTS): Rasa creates the `events` table itself
and the project's migrations leave it alone (on SQLite it is a file of its own).
"""

from __future__ import annotations

import itertools
from typing import Any, Iterator, Optional

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Query, Session

from bot.rasa_ext import session_rollover

STORED = "_bot_stored_events"  # tracker attribute: how many of its events are in the table
INDEXES = (
    "CREATE INDEX IF NOT EXISTS ix_events_sender_type_timestamp "
    "ON events (sender_id, type_name, timestamp)",
    "CREATE INDEX IF NOT EXISTS ix_events_sender_timestamp ON events (sender_id, timestamp)",
)
LATEST_SESSION_START = text(
    "SELECT timestamp FROM events WHERE sender_id = :sender_id "
    "AND type_name = 'session_started' AND timestamp IS NOT NULL "
    "ORDER BY timestamp DESC LIMIT 1"
)


def ensure_indexes(engine: Engine) -> None:
    """Create the history indexes on `events` unless they exist (several workers may race)."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # one worker at a time; the others find them
            conn.execute(text("SELECT pg_advisory_xact_lock(727013)"))
        for statement in INDEXES:
            conn.execute(text(statement))


def latest_session_start(session: Session, sender_id: str) -> Optional[float]:
    """Timestamp of the sender's latest `session_started`, None if they have none."""
    return session.execute(LATEST_SESSION_START, {"sender_id": sender_id}).scalar()


def stored_events(tracker: DialogueStateTracker) -> Optional[int]:
    """How many of the tracker's events this store knows to be saved, if it knows."""
    return getattr(tracker, STORED, None)


class SessionBoundSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore reading and writing only the current session, on indexed queries.

    `session_max_events` (endpoints.yml; default `session_rollover.DEFAULT_MAX_EVENTS`): a
    session this long is ended at the next safe point (see bot/rasa_ext/session_rollover.py).
    """

    def __init__(self, *args: Any, session_max_events: Optional[int] = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        ensure_indexes(self.engine)  # like Rasa's own create_all of `events` above
        self.session_max_events = session_rollover.configured_max_events(session_max_events)

    def _event_query(
        self, session: Session, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> Query:
        """The sender's events (of the latest session unless all are asked for), in id order."""
        query = session.query(self.SQLEvent).filter(self.SQLEvent.sender_id == sender_id)
        if not fetch_events_from_all_sessions:
            start = latest_session_start(session, sender_id)
            if start is not None:
                query = query.filter(self.SQLEvent.timestamp >= start)
        return query.order_by(self.SQLEvent.id)

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> Optional[DialogueStateTracker]:
        """Rasa's retrieve; a current-session tracker remembers that its events are stored."""
        tracker = await super()._retrieve(sender_id, fetch_events_from_all_sessions)
        if tracker is not None and not fetch_events_from_all_sessions:
            setattr(tracker, STORED, len(tracker.events))
        return tracker

    def _additional_events(self, session: Session, tracker: DialogueStateTracker) -> Iterator:
        """The tracker's events not saved yet: known here, else counted as Rasa does."""
        stored = stored_events(tracker)
        capped = tracker.events.maxlen is not None  # max_event_history drops old events
        if stored is None or capped or stored > len(tracker.events):
            return super()._additional_events(session, tracker)
        return itertools.islice(tracker.events, stored, len(tracker.events))

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Append the new events; the tracker then knows all of its events are stored."""
        await super().save(tracker)
        setattr(tracker, STORED, len(tracker.events))
