"""action_default_ask_affirmation: "Did you mean ...?" with Yes/No buttons (SMS: 1/2).

FAQ topics are described by data/faq_answers.yml (`description`), other intents here.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.faq import faq_answer_book
from actions.rephrase import ask_to_rephrase
from bot.rasa_ext.fallback_band import is_implausible

INTENT_DESCRIPTIONS = {
    "track_order": "check on an order",
    "book_room": "make a room request",
    "my_requests": "see your requests on file",
    "cancel_request": "cancel a room request",
    "human_handoff": "talk to a person",
    "menu": "see what I can do",
    "greet": "say hello",
    "goodbye": "end the chat",
    "thank": "say thanks",
    "bot_challenge": "know if I'm a bot",
}
NOT_SUGGESTED = {None, "out_of_scope", "nlu_fallback", "affirm", "deny"}


def best_guess(latest_message: Dict[Text, Any]) -> Optional[Text]:
    """The classifier's top intent (full retrieval name for faq) if worth suggesting, or None.

    Only the top candidate can be plausible, and not when bot.rasa_ext.nlu.confidence_band marked
    it implausible (out_of_scope on top, or below the band); a runner-up is never offered.
    """
    if is_implausible(latest_message):
        return None
    ranking = [
        r for r in latest_message.get("intent_ranking") or [] if r.get("name") != "nlu_fallback"
    ]
    guess = ranking[0].get("name") if ranking else None
    if guess in NOT_SUGGESTED:
        return None
    if guess == "faq":
        selector = (latest_message.get("response_selector") or {}).get("faq") or {}
        key = (selector.get("response") or {}).get("intent_response_key")
        return key or None
    return guess


def describe(intent: Text) -> Optional[Text]:
    if intent.startswith("faq/"):
        topic = faq_answer_book().description(intent.split("/", 1)[1])
        return f"ask about {topic}" if topic else None
    return INTENT_DESCRIPTIONS.get(intent)


class ActionDefaultAskAffirmation(Action):
    def name(self) -> Text:
        return "action_default_ask_affirmation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        guess = best_guess(tracker.latest_message)
        description = describe(guess) if guess else None
        if not description:  # nothing to offer: rephrase (or, the second time, a person)
            return await ask_to_rephrase(dispatcher, tracker)
        payload = f"/{guess}"
        if guess.startswith("faq/"):
            payload = '/faq{"faq_topic": "%s"}' % guess.split("/", 1)[1]
        dispatcher.utter_message(
            text=f"Sorry, did you want to {description}?",
            buttons=[
                {"title": "Yes", "payload": payload},
                {"title": "No", "payload": "/out_of_scope"},
            ],
        )
        return []
