"""Rasa's SQLTrackerStore on the bot's database, for endpoints.yml.

On SQLite the trackers get a file of their own beside DATABASE_URL's (see
`bot.settings.tracker_database_url`) and the pooled, WAL-mode engine of `bot.store.db`.
"""

from __future__ import annotations

from typing import Any, Optional

from rasa.core.brokers.broker import EventBroker
from rasa.shared.core.domain import Domain
from sqlalchemy.orm import sessionmaker

from bot.rasa_ext.session_store import SessionBoundSQLTrackerStore
from bot.settings import tracker_database_url
from bot.store.db import get_engine


class BotSQLTrackerStore(SessionBoundSQLTrackerStore):
    """`type: bot.rasa_ext.tracker_store.BotSQLTrackerStore`; `url:` overrides the default
    (TRACKER_DATABASE_URL, else DATABASE_URL or the SQLite file beside it); sessions and
    indexed history queries: bot/rasa_ext/session_store.py."""

    def __init__(
        self,
        domain: Optional[Domain] = None,
        url: Optional[str] = None,
        event_broker: Optional[EventBroker] = None,
        **kwargs: Any,
    ) -> None:
        for unused in ("dialect", "host", "db", "port", "username", "password"):
            kwargs.pop(unused, None)
        url = url or tracker_database_url()
        super().__init__(domain=domain, host=url, event_broker=event_broker, **kwargs)
        if self.engine.dialect.name == "sqlite":
            # SQLAlchemy 1.4 opens a new SQLite connection per session; use the pooled
            # WAL engine instead. Tracker commits skip the fsync (synchronous=NORMAL): a
            # crash of the process loses nothing, a power cut at most the last turns of
            # context; what customers said and were told is in the bot's own tables.
            rasa_engine, self.engine = self.engine, get_engine(url, durable=False)
            self.sessionmaker = sessionmaker(bind=self.engine)
            rasa_engine.dispose()
