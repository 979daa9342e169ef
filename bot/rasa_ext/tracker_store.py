"""Rasa's SQLTrackerStore on the bot's database, for endpoints.yml.

On SQLite the trackers get a file of their own beside DATABASE_URL's (see
`bot.settings.tracker_url_for`) and the pooled, WAL-mode engine of `bot.store.db`. Rasa
builds the store by calling the class with endpoints.yml's values and nothing else: the
constructor is this component's entry point, the one place it reads the settings
(TRACKER_DATABASE_URL, SESSION_MAX_EVENTS) for what endpoints.yml leaves out.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from rasa.core.brokers.broker import EventBroker
from rasa.shared.core.domain import Domain
from sqlalchemy.orm import sessionmaker

from bot.rasa_ext.session_store import SessionBoundSQLTrackerStore
from bot.settings import Settings, SettingsError, get_settings
from bot.store.db import ensure_sqlite_directory, get_engine


def _read_settings() -> Settings:
    try:
        return get_settings()
    except SettingsError as error:
        raise ValueError(f"tracker store: bad setting: {error}") from None


def session_limit(endpoint_kwargs: Dict[str, Any], settings: Settings) -> int:
    """The session size limit: endpoints.yml's `session_max_events`, else the settings'."""
    given = endpoint_kwargs.get("session_max_events")
    return settings.session_max_events if given is None else int(given)


class BotSQLTrackerStore(SessionBoundSQLTrackerStore):
    """`type: bot.rasa_ext.tracker_store.BotSQLTrackerStore`; `url:` overrides the default
    (TRACKER_DATABASE_URL, else DATABASE_URL or the SQLite file beside it); sessions and
    indexed history queries: bot/rasa_ext/session_store.py."""

    def __init__(
        self,
        domain: Optional[Domain] = None,
        url: Optional[str] = None,
        event_broker: Optional[EventBroker] = None,
        settings: Optional[Settings] = None,
        **kwargs: Any,
    ) -> None:
        """Rasa builds the store here, from endpoints.yml (its `url:` arrives as `host`).
        What endpoints.yml leaves out comes from `settings`; Rasa gives none, so this is
        the component's entry point: it reads them then (once; Rasa builds one store)."""
        url = url or kwargs.pop("host", None)
        for unused in ("dialect", "host", "db", "port", "username", "password"):
            kwargs.pop(unused, None)
        if settings is None and (not url or kwargs.get("session_max_events") is None):
            settings = _read_settings()
        if settings is not None:
            url = url or settings.tracker_database_url
            kwargs["session_max_events"] = session_limit(kwargs, settings)
        if url:
            ensure_sqlite_directory(url)
        super().__init__(domain=domain, host=url, event_broker=event_broker, **kwargs)
        if self.engine.dialect.name == "sqlite":
            # SQLAlchemy 1.4 opens a new SQLite connection per session; use the pooled
            # WAL engine instead. Tracker commits skip the fsync (synchronous=NORMAL): a
            # crash of the process loses nothing, a power cut at most the last turns of
            # context; what customers said and were told is in the bot's own tables.
            rasa_engine, self.engine = self.engine, get_engine(url, durable=False)
            self.sessionmaker = sessionmaker(bind=self.engine)
            rasa_engine.dispose()
