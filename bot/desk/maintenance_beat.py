"""The desk maintenance loop's heartbeat: the loop records each successful round, and the
handoff notice and the supervisors' warning ask whether a loop is running (auto-assignment
happens only then)."""

from __future__ import annotations

import datetime as dt
import os
import socket
from typing import Optional

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.store.models import DeskMaintenanceBeat, utcnow

LOOP_NAME = "desk"  # the row's key: the desk has one maintenance duty, whichever console runs it
LOOP_INTERVAL_SECONDS = 1.0  # a console's loop runs a round this often (bot/desk/web/app.py)
# A loop is running if it beat this recently: three rounds, and at least 10 s so that a slow
# round (a busy database) or the console restarting a failed loop (5 s,
# bot.desk.web.app.MAINTENANCE_RESTART_SECONDS) does not make it look dead.
FRESH_SECONDS = max(10.0, 3 * LOOP_INTERVAL_SECONDS)


def record_beat(session: Session, now: Optional[dt.datetime] = None) -> None:
    """Record that the maintenance loop of this process finished a round (now, UTC)."""
    values = {
        "name": LOOP_NAME,
        "beat_at": now or utcnow(),
        "host": socket.gethostname()[:255],
        "pid": os.getpid(),
    }
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(DeskMaintenanceBeat).values(**values)
    updated = {k: statement.excluded[k] for k in ("beat_at", "host", "pid")}
    session.execute(statement.on_conflict_do_update(index_elements=["name"], set_=updated))


def last_beat(session: Session) -> Optional[DeskMaintenanceBeat]:
    """The latest beat (when, host, pid), None if no loop ever ran on this database."""
    return session.get(DeskMaintenanceBeat, LOOP_NAME)


def maintenance_alive(session: Session, now: Optional[dt.datetime] = None) -> bool:
    """Whether a maintenance loop beat within FRESH_SECONDS (so waiting chats get assigned)."""
    beat = last_beat(session)
    if beat is None:
        return False
    age = (now or utcnow()) - beat.beat_at
    return age <= dt.timedelta(seconds=FRESH_SECONDS)
