"""Rasa's SQLTrackerStore on the bot's database, for endpoints.yml.

On SQLite the trackers get a file of their own beside DATABASE_URL's (see
`bot.settings.tracker_url_for`) and the pooled, WAL-mode engine of `bot.store.db`. Rasa
builds the store with `from_endpoint_config`, this component's entry point: the one place
it reads the settings (TRACKER_DATABASE_URL, SESSION_MAX_EVENTS) unless endpoints.yml
gives `url` / `session_max_events`.
"""

from __future__ import annotations

from typing import Any, Optional

from rasa.core.brokers.broker import EventBroker
from rasa.shared.core.domain import Domain
from rasa.utils.endpoints import EndpointConfig
from sqlalchemy.orm import sessionmaker

from bot.rasa_ext.session_store import SessionBoundSQLTrackerStore
from bot.settings import Settings, SettingsError, get_settings
from bot.store.db import get_engine


class BotSQLTrackerStore(SessionBoundSQLTrackerStore):
    """`type: bot.rasa_ext.tracker_store.BotSQLTrackerStore`; `url:` overrides the default
    (TRACKER_DATABASE_URL, else DATABASE_URL or the SQLite file beside it); sessions and
    indexed history queries: bot/rasa_ext/session_store.py."""

    @classmethod
    def from_endpoint_config(
        cls,
        broker: Optional[EventBroker],
        domain: Optional[Domain],
        endpoint_config: EndpointConfig,
    ) -> "BotSQLTrackerStore":
        """Rasa's way to build the store (endpoints.yml): the settings are read here."""
        try:
            settings = get_settings()
        except SettingsError as error:
            raise ValueError(f"tracker store: bad setting: {error}") from None
        kwargs = dict(endpoint_config.kwargs)
        kwargs["session_max_events"] = cls.session_limit(endpoint_config, settings)
        url = endpoint_config.url or settings.tracker_database_url
        return cls(domain=domain, url=url, event_broker=broker, **kwargs)

    @staticmethod
    def session_limit(endpoint_config: EndpointConfig, settings: Settings) -> int:
        """The session size limit: endpoints.yml's `session_max_events`, else the settings'."""
        return endpoint_config.kwargs.get("session_max_events") or settings.session_max_events

    def __init__(
        self,
        domain: Optional[Domain] = None,
        url: str = "",
        event_broker: Optional[EventBroker] = None,
        **kwargs: Any,
    ) -> None:
        for unused in ("dialect", "host", "db", "port", "username", "password"):
            kwargs.pop(unused, None)
        if not url:
            raise ValueError("BotSQLTrackerStore needs the tracker database's url")
        super().__init__(domain=domain, host=url, event_broker=event_broker, **kwargs)
        if self.engine.dialect.name == "sqlite":
            # SQLAlchemy 1.4 opens a new SQLite connection per session; use the pooled
            # WAL engine instead. Tracker commits skip the fsync (synchronous=NORMAL): a
            # crash of the process loses nothing, a power cut at most the last turns of
            # context; what customers said and were told is in the bot's own tables.
            rasa_engine, self.engine = self.engine, get_engine(url, durable=False)
            self.sessionmaker = sessionmaker(bind=self.engine)
            rasa_engine.dispose()
