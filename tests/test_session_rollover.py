"""When a session rolls over, and what the new session carries over."""

from __future__ import annotations

from pathlib import Path
from typing import List

import pytest
from rasa.core.tracker_store import create_tracker_store
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.rasa_ext import session_rollover as rollover
from bot.rasa_ext.tracker_store import BotSQLTrackerStore, session_limit
from bot.settings import PROJECT_ROOT, Settings, SettingsError
from bot.store.db import dispose_engines


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


def start() -> List[Event]:
    return [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
    ]


def turn(intent: str, action: str) -> List[Event]:
    return [
        UserUttered("text", {"name": intent, "confidence": 1.0}),
        ActionExecuted(action),
        BotUttered("reply"),
        ActionExecuted("action_listen"),
    ]


def tracker(domain: Domain, events: List[Event]) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("+15550001111", events, domain.slots)


def test_a_long_session_rolls_over_only_outside_loops(domain: Domain) -> None:
    events = start() + turn("faq", "action_answer_faq") * 10  # 3 + 40 events
    assert rollover.events_in_session(tracker(domain, events)) == 41
    assert rollover.rollover_reason(tracker(domain, events), max_events=41) == "size"
    assert rollover.rollover_reason(tracker(domain, events), max_events=42) is None
    in_form = events + [ActiveLoop("booking_form")]
    assert rollover.rollover_reason(tracker(domain, in_form), max_events=10) is None


def test_a_closed_topic_rolls_over_once(domain: Domain) -> None:
    said_bye = start() + turn("faq", "action_answer_faq") + turn("goodbye", "utter_goodbye")
    assert rollover.rollover_reason(tracker(domain, said_bye), 120) == "topic"
    handed_back = start() + turn("agent_resolved", "action_handback")
    assert rollover.rollover_reason(tracker(domain, handed_back), 120) == "topic"
    next_session = said_bye + start() + turn("faq", "action_answer_faq")
    assert rollover.rollover_reason(tracker(domain, next_session), 120) is None
    assert rollover.rollover_reason(tracker(domain, said_bye + start()), 120) is None


def test_the_new_session_carries_the_order_over(domain: Domain) -> None:
    events = start() + [SlotSet("order_number", "A1001"), SlotSet("stay_route", "note")]
    carried = rollover.carried_slots(tracker(domain, events))
    assert carried == [("order_number", "A1001")]
    session_start = [SessionStarted(), ActionExecuted("action_listen")]
    out = rollover.with_carried_slots(session_start, carried)
    assert [type(e).__name__ for e in out] == ["SessionStarted", "SlotSet", "ActionExecuted"]
    assert (out[1].key, out[1].value) == ("order_number", "A1001")
    assert rollover.carried_slots(tracker(domain, start())) == []


def test_the_limit_comes_from_endpoints_then_the_settings() -> None:
    assert rollover.configured_max_events() == rollover.DEFAULT_MAX_EVENTS
    assert rollover.configured_max_events(60) == 60
    with pytest.raises(ValueError):
        rollover.configured_max_events(3)
    assert session_limit({}, Settings(session_max_events=40)) == 40
    assert session_limit({"session_max_events": 60}, Settings(session_max_events=40)) == 60
    assert Settings.from_env({"SESSION_MAX_EVENTS": "40"}).session_max_events == 40
    with pytest.raises(SettingsError, match="SESSION_MAX_EVENTS"):
        Settings.from_env({"SESSION_MAX_EVENTS": "lots"})


def test_every_rule_starts_from_an_intent_or_an_active_loop() -> None:
    """What makes a roll-over outside loops safe: no rule looks back past the user's text."""
    import yaml

    for path in sorted((PROJECT_ROOT / "data" / "rules").glob("*.yml")):
        for rule in yaml.safe_load(path.read_text()).get("rules", []):
            in_loop = any("active_loop" in c for c in rule.get("condition", []))
            assert not rule.get("conversation_start"), rule["rule"]
            assert in_loop or "intent" in rule["steps"][0], (path.name, rule["rule"])


def test_rasa_builds_the_store_from_endpoints_then_the_settings(
    domain: Domain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rasa calls the store's class with endpoints.yml's values only; the rest is Settings."""
    trackers = f"sqlite:///{tmp_path / 'trackers.db'}"
    monkeypatch.setenv("TRACKER_DATABASE_URL", trackers)
    monkeypatch.setenv("SESSION_MAX_EVENTS", "40")
    config = {"type": "bot.rasa_ext.tracker_store.BotSQLTrackerStore"}
    try:
        store = create_tracker_store(EndpointConfig.from_dict(config), domain)
        assert isinstance(store, BotSQLTrackerStore)
        assert store.session_max_events == 40 and str(store.engine.url) == trackers
        given = f"sqlite:///{tmp_path / 'given.db'}"
        endpoints = {**config, "url": given, "session_max_events": 60}
        store = create_tracker_store(EndpointConfig.from_dict(endpoints), domain)
        assert store.session_max_events == 60 and str(store.engine.url) == given
        monkeypatch.setenv("SESSION_MAX_EVENTS", "lots")
        with pytest.raises(ValueError, match="SESSION_MAX_EVENTS must be a whole number"):
            create_tracker_store(EndpointConfig.from_dict(config), domain)
    finally:
        dispose_engines()
