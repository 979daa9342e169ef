"""Nonces of the workers' signed calls to /webhooks/plivo/process, shared by Rasa servers.

Kept in the tracker database (Settings.tracker_database_url: TRACKER_DATABASE_URL, else
DATABASE_URL or on SQLite the file beside it): every Rasa server of a deployment shares
it, as it shares the trackers, and on SQLite it keeps the Rasa server's writes out of the
file the receiver and the worker write. Created on first use, like Rasa's own `events` table.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Dict

from sqlalchemy import Column, DateTime, MetaData, String, Table, delete, insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from bot.store.db import get_engine
from bot.store.models import utcnow

# Longer than the signature's timestamp window (bot.sms.gateway_auth.MAX_SKEW_SECONDS x 2).
NONCE_TTL = dt.timedelta(minutes=15)
PRUNE_SECONDS = 60.0

metadata = MetaData()
call_nonces = Table(
    "rasa_call_nonces",
    metadata,
    Column("nonce", String(64), primary_key=True),
    Column("seen_at", DateTime, nullable=False, index=True),
)
_INSERT = insert(call_nonces)
_created: Dict[str, bool] = {}
_creating = threading.Lock()
_last_prune = 0.0


def _engine(url: str) -> Engine:
    engine = get_engine(url, durable=False)
    if not _created.get(url):
        with _creating:  # the route's calls run in threads; another server may race too
            if not _created.get(url):
                try:
                    metadata.create_all(engine, checkfirst=True)
                except DBAPIError:
                    metadata.create_all(engine, checkfirst=True)  # created meanwhile
                _created[url] = True
    return engine


def remember(nonce: str, url: str) -> bool:
    """Record a call's nonce in the database `url`; False if any Rasa server saw it before
    (a replay)."""
    global _last_prune
    engine = _engine(url)
    now = utcnow()
    try:
        with engine.begin() as connection:
            connection.execute(_INSERT, {"nonce": nonce, "seen_at": now})
            if time.monotonic() - _last_prune > PRUNE_SECONDS:
                _last_prune = time.monotonic()
                connection.execute(
                    delete(call_nonces).where(call_nonces.c.seen_at < now - NONCE_TTL)
                )
    except IntegrityError:
        return False
    return True
