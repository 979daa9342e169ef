"""The clarification band and the person-request override, with fabricated rankings.

bot.rasa_ext.nlu.confidence_band and bot.rasa_ext.nlu.person_request run on real rasa
Messages; the clarify and rephrase actions on real rasa_sdk Trackers. No model is trained here.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import pytest
from rasa.shared.nlu.training_data.message import Message

from actions.clarify import ActionDefaultAskAffirmation, best_guess
from actions.identity import conversation_topic
from actions.rephrase import ActionAskRephrase, texts_since_fallback_started
from bot.rasa_ext.fallback_band import is_implausible
from bot.rasa_ext.nlu.confidence_band import apply_band, band_decision
from bot.rasa_ext.nlu.person_request import apply_person_request
from tests.action_helpers import make_tracker, run_action

LOW = 0.3


def ranking(*pairs: Any) -> List[Dict[str, Any]]:
    return [{"name": name, "confidence": confidence} for name, confidence in pairs]


def parsed(text: str, intent: str, confidence: float, rank: List[Dict[str, Any]]) -> Message:
    """A message as FallbackClassifier leaves it."""
    return Message(
        data={
            "text": text,
            "intent": {"name": intent, "confidence": confidence},
            "intent_ranking": rank,
        }
    )


def fallback(text: str, *pairs: Any) -> Message:
    """FallbackClassifier's nlu_fallback (threshold 0.5) over a classifier ranking."""
    return parsed(text, "nlu_fallback", 0.5, ranking(("nlu_fallback", 0.5), *pairs))


# --- the band ---------------------------------------------------------------------------


def marker(message: Message) -> Optional[str]:
    """The implausible guess ConfidenceBand marked, if any."""
    found = [e for e in message.get("entities") or [] if e["entity"] == "implausible_guess"]
    return found[0]["value"] if found else None


def test_a_plausible_guess_stays_a_fallback_to_clarify() -> None:
    message = fallback("parking for my order", ("faq", 0.42), ("track_order", 0.38))
    apply_band(message, LOW)
    assert message.get("intent")["name"] == "nlu_fallback"
    assert marker(message) is None
    assert best_guess(message.as_dict(only_output_properties=True)) is None  # faq: no key here


def test_a_guess_below_the_band_is_marked_keeping_intent_and_ranking() -> None:
    message = fallback("whats the weather in paris", ("faq", 0.22), ("out_of_scope", 0.21))
    message.set("entities", [{"entity": "date", "value": "2026-12-05"}])
    before = list(message.get("intent_ranking"))
    apply_band(message, LOW)
    assert message.get("intent") == {"name": "nlu_fallback", "confidence": 0.5}
    assert message.get("intent_ranking") == before
    assert [e["entity"] for e in message.get("entities")] == ["date", "implausible_guess"]
    assert marker(message) == "faq"
    assert is_implausible(message.as_dict(only_output_properties=True))


def test_an_unsure_out_of_scope_top_is_marked() -> None:
    message = fallback("whats the weather in paris", ("out_of_scope", 0.47), ("faq", 0.44))
    apply_band(message, LOW)
    assert marker(message) == "out_of_scope"


def test_above_the_threshold_nothing_changes() -> None:
    message = parsed("is there parking", "faq", 0.9, ranking(("faq", 0.9), ("greet", 0.05)))
    apply_band(message, LOW)
    assert message.get("intent") == {"name": "faq", "confidence": 0.9}
    assert marker(message) is None


@pytest.mark.parametrize(
    ("pairs", "decision"),
    [
        ((("track_order", 0.3),), None),  # the band's edge is inside
        ((("track_order", 0.2999),), "track_order"),
        ((("out_of_scope", 0.49),), "out_of_scope"),
        ((), None),
    ],
)
def test_band_edges(pairs: Any, decision: Optional[str]) -> None:
    assert band_decision(ranking(("nlu_fallback", 0.5), *pairs), LOW) == decision


# --- explicit asks for a person -----------------------------------------------------------


def test_an_explicit_ask_wins_over_the_task_and_keeps_it() -> None:
    message = parsed(
        "I need a human please, my order never arrived",
        "track_order",
        0.74,
        ranking(("track_order", 0.74), ("human_handoff", 0.24)),
    )
    apply_person_request(message)
    assert message.get("intent") == {"name": "human_handoff", "confidence": 1.0}
    assert message.get("intent_ranking")[0] == {"name": "human_handoff", "confidence": 1.0}
    assert message.get("handoff_task") == "track_order"
    assert "handoff_task" in message.as_dict(only_output_properties=True)


def test_an_ask_the_classifier_missed_is_found_and_the_task_named_in_words() -> None:
    message = fallback("pls connect me to someone my refund is wrong", ("faq", 0.36))
    apply_person_request(message)
    assert message.get("intent")["name"] == "human_handoff"
    assert message.get("handoff_task") == "track_order"


def test_a_mere_mention_guessed_as_handoff_becomes_a_fallback_without_it() -> None:
    message = parsed(
        "the person at the front desk was nice",
        "human_handoff",
        0.79,
        ranking(("human_handoff", 0.79), ("faq", 0.16), ("out_of_scope", 0.05)),
    )
    apply_person_request(message)
    assert message.get("intent")["name"] == "nlu_fallback"
    assert [r["name"] for r in message.get("intent_ranking")] == [
        "nlu_fallback",
        "faq",
        "out_of_scope",
    ]
    apply_band(message, LOW)  # then the band: faq at 0.16 is no plausible guess
    assert marker(message) == "faq"


def test_a_mention_the_classifier_sends_elsewhere_is_left_alone() -> None:
    rank = ranking(("track_order", 0.93), ("out_of_scope", 0.04))
    message = parsed("my husband wants to know where the order is", "track_order", 0.93, rank)
    apply_person_request(message)
    assert message.get("intent") == {"name": "track_order", "confidence": 0.93}
    assert message.get("handoff_task") is None


def test_the_handoff_task_sets_the_conversation_topic() -> None:
    tracker = make_tracker(
        "+15005550001",
        "get me an agent, my package is lost",
        "human_handoff",
        extra={"handoff_task": "track_order"},
    )
    assert conversation_topic(tracker) == "orders"


# --- clarify: only the top candidate, never out_of_scope ------------------------------------


@pytest.mark.parametrize(
    ("rank", "guess"),
    [
        (ranking(("nlu_fallback", 0.5), ("track_order", 0.4), ("faq", 0.3)), "track_order"),
        (ranking(("nlu_fallback", 0.5), ("out_of_scope", 0.45), ("track_order", 0.4)), None),
        (ranking(("nlu_fallback", 0.5), ("affirm", 0.4), ("book_room", 0.3)), None),
        (ranking(("nlu_fallback", 1.0)), None),
    ],
)
def test_best_guess_is_the_top_candidate_only(rank: List[Dict[str, Any]], guess: str) -> None:
    assert best_guess({"intent_ranking": rank}) == guess


def test_no_guess_when_the_band_marked_it_implausible() -> None:
    rank = ranking(("nlu_fallback", 0.5), ("track_order", 0.2))
    marked = [{"entity": "implausible_guess", "value": "track_order"}]
    assert best_guess({"intent_ranking": rank, "entities": marked}) is None


async def test_clarify_asks_about_the_top_candidate_with_yes_no() -> None:
    tracker = make_tracker("+15005550001", "parking order", "nlu_fallback")
    tracker.latest_message["intent_ranking"] = ranking(
        ("nlu_fallback", 0.5), ("track_order", 0.41), ("faq", 0.4)
    )
    messages, _ = await run_action(ActionDefaultAskAffirmation(), tracker)
    [message] = messages
    assert message["text"] == "Sorry, did you want to check on an order?"
    assert [b["payload"] for b in message["buttons"]] == ["/track_order", "/out_of_scope"]


# --- rephrase: once; the second miss in one fallback hands over ---------------------------


def _in_fallback(texts: List[str]) -> Any:
    tracker = make_tracker(
        "+15005550001", texts[-1], "out_of_scope", active_loop="action_two_stage_fallback"
    )
    tracker.events = [
        {"event": "user", "text": "parking order", "parse_data": {}},
        {"event": "action", "name": "action_two_stage_fallback"},
        {"event": "active_loop", "name": "action_two_stage_fallback"},
        *({"event": "user", "text": t, "parse_data": {}} for t in texts),
    ]
    return tracker


def test_texts_since_the_fallback_started() -> None:
    assert texts_since_fallback_started(_in_fallback(["/out_of_scope"])) == 1
    assert texts_since_fallback_started(_in_fallback(["/out_of_scope", "weather?"])) == 2
    assert texts_since_fallback_started(make_tracker("+15005550001", "hi", "greet")) == 0
    over = _in_fallback(["/out_of_scope", "weather?"])
    over.active_loop = {}  # an earlier fallback, over: a new one starts counting afresh
    assert texts_since_fallback_started(over) == 0


async def test_first_miss_asks_to_rephrase() -> None:
    messages, events = await run_action(ActionAskRephrase(), _in_fallback(["/out_of_scope"]))
    assert [m.get("response") for m in messages] == ["utter_ask_rephrase"]
    assert events == []


async def test_second_miss_hands_over(database_url: str) -> None:
    from bot.store.db import session_scope
    from bot.store.handoffs import open_handoffs

    tracker = _in_fallback(["/out_of_scope", "whats the weather"])
    messages, events = await run_action(ActionAskRephrase(), tracker)
    assert messages[0]["response"] == "utter_handoff_fallback"
    assert events == [{"event": "rewind", "timestamp": None}]
    with session_scope() as session:
        [handoff] = open_handoffs(session)
    assert (handoff.phone, handoff.reason) == ("+15005550001", "fallback")


def test_the_handoff_detail_keeps_the_customers_words_not_a_button_payload() -> None:
    from actions.handoff import customer_words

    tracker = _in_fallback(["/out_of_scope"])
    tracker.latest_message["text"] = "/out_of_scope"
    assert customer_words(tracker) == "parking order"
    assert customer_words(make_tracker("+15005550001", "real person pls", "human_handoff")) == (
        "real person pls"
    )


async def test_no_plausible_guess_reissues_the_text_as_out_of_scope() -> None:
    from actions.no_plausible_guess import ActionNoPlausibleGuess

    tracker = make_tracker("+15005550001", "towels", "nlu_fallback")
    tracker.latest_message["intent_ranking"] = ranking(
        ("nlu_fallback", 0.55), ("menu", 0.4), ("out_of_scope", 0.16)
    )
    tracker.latest_message["message_id"] = "m1"
    messages, events = await run_action(ActionNoPlausibleGuess(), tracker)
    assert messages == []
    assert [e["event"] for e in events] == ["rewind", "action", "user"]
    assert events[1]["name"] == "action_listen"
    reissued = events[2]
    assert (reissued["text"], reissued["message_id"]) == ("towels", "m1")
    assert reissued["parse_data"]["intent"] == {"name": "out_of_scope", "confidence": 0.16}
    assert reissued["parse_data"]["intent_ranking"] == tracker.latest_message["intent_ranking"]
