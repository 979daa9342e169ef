"""Our tracker store is found under however many of Rasa's wrappers: the SMS connector's
message id check, its database-outage hook and the session size limit all reach it."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pytest
from rasa.core.agent import Agent
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import (
    AwaitableTrackerStore,
    FailSafeTrackerStore,
    InMemoryTrackerStore,
    TrackerStore,
)
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.rasa_ext import session_rollover, store_layers
from bot.rasa_ext.tracker_store import BotSQLTrackerStore
from channels.plivo import (
    _raise_if_database_unavailable,
    _stored,
    replies_after,
    run_turn,
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
    assert await _stored(wrapped, PHONE, "uuid-1_%") is True
    assert await _stored(wrapped, PHONE, "uuid-2") is False
    assert await _stored(wrapped, PHONE, "uuid-1__") is False  # LIKE wildcards escaped
    assert await _stored(wrapped, "+15550008888", "uuid-1_%") is False


async def test_without_an_sql_store_the_tracker_is_read_and_that_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = FailSafeTrackerStore(InMemoryTrackerStore(Domain.empty()))
    with caplog.at_level(logging.WARNING, logger="channels.plivo"):
        assert await _stored(store, PHONE, "uuid-1") is None
        assert await _stored(store, PHONE, "uuid-2") is None
    warnings = [r.getMessage() for r in caplog.records if r.name == "channels.plivo"]
    assert warnings == [
        "no SQL tracker store in FailSafeTrackerStore > InMemoryTrackerStore: "
        "message ids are checked by reading the tracker"
    ]


class _NoTurns:
    async def handle_message(self, message: Any) -> None:
        raise AssertionError(f"a replayed message id was run again: {message.message_id}")


async def test_a_replay_from_before_the_current_session_is_answered_not_run(
    bot_store: BotSQLTrackerStore,
) -> None:
    """The message id is stored, but a session started since: its answer comes from the
    whole history and nothing is appended."""
    t = time.time() - 100
    events = [
        ActionExecuted("action_session_start", timestamp=t),
        SessionStarted(timestamp=t + 1),
        ActionExecuted("action_listen", timestamp=t + 2),
        UserUttered("hi", message_id="uuid-old", timestamp=t + 3),
        BotUttered("Hello!", timestamp=t + 4),
        ActionExecuted("action_listen", timestamp=t + 5),
        ActionExecuted("action_session_start", timestamp=t + 10),
        SessionStarted(timestamp=t + 11),
        ActionExecuted("action_listen", timestamp=t + 12),
        UserUttered("is there parking", message_id="uuid-new", timestamp=t + 13),
        BotUttered("Yes, free.", timestamp=t + 14),
        ActionExecuted("action_listen", timestamp=t + 15),
    ]
    await bot_store.save(DialogueStateTracker.from_events(PHONE, events))
    current = await bot_store.retrieve(PHONE)
    assert current is not None and replies_after(current, "uuid-old") is None

    agent = _Agent(FailSafeTrackerStore(AwaitableTrackerStore(bot_store)))
    agent.lock_store = InMemoryLockStore()
    agent.processor = _NoTurns()
    hello = [{"recipient_id": PHONE, "text": "Hello!"}]
    assert await run_turn(agent, PHONE, "hi", "uuid-old", {}) == (hello, [])
    parking = [{"recipient_id": PHONE, "text": "Yes, free."}]
    assert await run_turn(agent, PHONE, "is there parking", "uuid-new", {}) == (parking, [])
    full = await bot_store.retrieve_full_tracker(PHONE)
    assert full is not None and len(full.events) == len(events)
