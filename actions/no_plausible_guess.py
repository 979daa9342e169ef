"""action_no_plausible_guess: a not-understood text with no plausible guess is out of scope.

bot.rasa_ext.nlu.confidence_band marks such a text (`nlu_fallback` with the entity
`implausible_guess`); the intent stays `nlu_fallback` so the forms still take an unsure
text as an answer. Where a rule sends it here, the text is re-issued as `out_of_scope`
(Rasa's own way of replacing a message, as its two-stage fallback does), so the
out-of-scope rules answer it (and a form resumes), and Rasa's two-stage fallback does not
count it as a failed text when the next one is unsure too.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

OUT_OF_SCOPE = "out_of_scope"


def as_out_of_scope(latest_message: Dict[Text, Any]) -> Dict[Text, Any]:
    """The same parse result with the intent `out_of_scope` (ranking and entities kept)."""
    confidence = next(
        (
            float(r.get("confidence") or 0.0)
            for r in latest_message.get("intent_ranking") or []
            if r.get("name") == OUT_OF_SCOPE
        ),
        0.0,
    )
    return {**latest_message, "intent": {"name": OUT_OF_SCOPE, "confidence": confidence}}


class ActionNoPlausibleGuess(Action):
    """Replace the last text by the same text understood as out of scope."""

    def name(self) -> Text:
        return "action_no_plausible_guess"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        latest = tracker.latest_message or {}
        reissued = {
            "event": "user",
            "timestamp": None,
            "text": latest.get("text"),
            "parse_data": as_out_of_scope(latest),
            "input_channel": tracker.get_latest_input_channel(),
            "message_id": latest.get("message_id"),
            "metadata": latest.get("metadata") or {},
        }
        return [UserUtteranceReverted(), ActionExecuted("action_listen"), reissued]
