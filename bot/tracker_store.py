"""Rasa's SQLTrackerStore on the bot's own database (DATABASE_URL), for endpoints.yml."""

from __future__ import annotations

from typing import Any, Optional

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain

from bot import rasa_speedups
from bot.settings import get_settings


class BotSQLTrackerStore(SQLTrackerStore):
    """`type: bot.tracker_store.BotSQLTrackerStore`; `url:` overrides DATABASE_URL."""

    def __init__(
        self,
        domain: Optional[Domain] = None,
        url: Optional[str] = None,
        event_broker: Optional[EventBroker] = None,
        **kwargs: Any,
    ) -> None:
        rasa_speedups.install()
        for unused in ("dialect", "host", "db", "port", "username", "password"):
            kwargs.pop(unused, None)
        super().__init__(
            domain=domain,
            host=url or get_settings().database_url,
            event_broker=event_broker,
            **kwargs,
        )
