"""action_default_ask_rephrase: ask once to say it another way; a second miss gets a person.

Inside the two-stage fallback, an out-of-scope text is not a clarification, so Rasa asks
to rephrase again, and again; and a text with no plausible guess (bot.rasa_ext.nlu.confidence_band)
gets "say it another way" from the clarify step too. Once the texter has answered twice
since the fallback started, we stop asking and hand over instead, like Rasa's own give-up
(action_default_fallback).
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import give_up
from actions.safe_action import SafeAction

TWO_STAGE = "action_two_stage_fallback"


def texts_since_fallback_started(tracker: Tracker) -> int:
    """User texts since the running two-stage fallback started (0 when none is running)."""
    if (tracker.active_loop or {}).get("name") != TWO_STAGE:
        return 0  # also its first step: the loop is activated after the step returns
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") == "active_loop" and event.get("name") == TWO_STAGE:
            return count
        if event.get("event") == "user":
            count += 1
    return 0


class ActionAskRephrase(SafeAction):
    """Ask to rephrase; the second miss in one fallback hands over to a person."""

    def name(self) -> Text:
        return "action_default_ask_rephrase"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        return await ask_to_rephrase(dispatcher, tracker)


async def ask_to_rephrase(
    dispatcher: CollectingDispatcher, tracker: Tracker
) -> List[Dict[Text, Any]]:
    """Ask to say it another way; hand over once two texts missed in this fallback."""
    if texts_since_fallback_started(tracker) >= 2:
        return await give_up(dispatcher, tracker)
    dispatcher.utter_message(response="utter_ask_rephrase")
    return []
