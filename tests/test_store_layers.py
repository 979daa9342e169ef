"""Our tracker store is found under however many of Rasa's wrappers: the SMS connector's
message id check, its database-outage hook and the session size limit all reach it."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from rasa.core.agent import Agent
from rasa.core.tracker_store import (
    AwaitableTrackerStore,
    FailSafeTrackerStore,
    InMemoryTrackerStore,
    TrackerStore,
)
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.utils.endpoints import EndpointConfig

from bot.rasa_ext import session_rollover, store_layers
from bot.rasa_ext.tracker_store import BotSQLTrackerStore
from channels.plivo import (
    _maybe_seen,
    _raise_if_database_unavailable,
    sql_store,
    strict_tracker_store,
)

PHONE = "+15550007777"
STORE_TYPE = "bot.rasa_ext.tracker_store.BotSQLTrackerStore"


@pytest.fixture
def bot_store(tmp_path: Path) -> BotSQLTrackerStore:
    """Our store on a SQLite file, built as Rasa builds it from endpoints.yml."""
    config = EndpointConfig(
        url=f"sqlite:///{tmp_path / 'tracker.db'}", type=STORE_TYPE, session_max_events=40
    )
    store = TrackerStore.create(config, Domain.empty())
    assert isinstance(store, BotSQLTrackerStore)
    return store


class _Agent:
    def __init__(self, store: Any) -> None:
        self.tracker_store = store


def test_the_agent_rasa_builds_wraps_our_store_once(bot_store: BotSQLTrackerStore) -> None:
    """Rasa 3.6's layering today; if it changes, this names the new layers."""
    agent = Agent(tracker_store=bot_store)
    assert store_layers.describe(agent.tracker_store) == (
        "FailSafeTrackerStore > BotSQLTrackerStore"
    )
    assert sql_store(agent.tracker_store) is bot_store
    assert session_rollover.configured_limit(agent.tracker_store) == 40


def test_every_layer_is_walked(bot_store: BotSQLTrackerStore) -> None:
    inner_fail_safe = FailSafeTrackerStore(AwaitableTrackerStore(bot_store))
    outer_fail_safe = FailSafeTrackerStore(inner_fail_safe)
    wrapped = AwaitableTrackerStore(outer_fail_safe)
    assert [type(layer) for layer in store_layers.layers(wrapped)] == [
        AwaitableTrackerStore,
        FailSafeTrackerStore,
        FailSafeTrackerStore,
        AwaitableTrackerStore,
        BotSQLTrackerStore,
    ]
    assert sql_store(wrapped) is bot_store
    assert session_rollover.configured_limit(wrapped) == 40
    strict_tracker_store(_Agent(wrapped))
    for fail_safe in (inner_fail_safe, outer_fail_safe):
        assert fail_safe._on_tracker_store_error is _raise_if_database_unavailable


async def test_the_message_id_check_reads_our_store_under_two_wrappers(
    bot_store: BotSQLTrackerStore,
) -> None:
    wrapped = FailSafeTrackerStore(AwaitableTrackerStore(bot_store))
    tracker = await bot_store.get_or_create_tracker(PHONE)
    tracker.update(UserUttered("hi", message_id="uuid-1_%"))
    await bot_store.save(tracker)
    assert await _maybe_seen(wrapped, PHONE, "uuid-1_%")
    assert not await _maybe_seen(wrapped, PHONE, "uuid-2")
    assert not await _maybe_seen(wrapped, PHONE, "uuid-1__")  # LIKE wildcards escaped
    assert not await _maybe_seen(wrapped, "+15550008888", "uuid-1_%")


async def test_without_an_sql_store_the_tracker_is_read_and_that_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = FailSafeTrackerStore(InMemoryTrackerStore(Domain.empty()))
    with caplog.at_level(logging.WARNING, logger="channels.plivo"):
        assert await _maybe_seen(store, PHONE, "uuid-1")
        assert await _maybe_seen(store, PHONE, "uuid-2")
    warnings = [r.getMessage() for r in caplog.records if r.name == "channels.plivo"]
    assert warnings == [
        "no SQL tracker store in FailSafeTrackerStore > InMemoryTrackerStore: "
        "message ids are checked by reading the tracker"
    ]
