"""action_answer_faq: the FAQ answer, from data/faq_answers.yml (not domain.yml).

Like Rasa's `utter_faq`, it uses the response selector's pick; it also accepts a
`faq_topic` entity, which is how a "Did you mean ...?" button names the topic. The answers
file is reread when it changes (bot/designer/faq_answers.py), so an edited answer is live
without retraining or a restart; a broken edit, or an answer over the SMS segment budget,
keeps the last good answers.
"""

from __future__ import annotations

import functools
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.settings import action_settings
from bot.designer.faq_answers import FaqAnswerBook


@functools.lru_cache(maxsize=1)
def faq_answer_book() -> FaqAnswerBook:
    """This process's FAQ answers (FAQ_ANSWERS_FILE), each within SMS_SEGMENT_BUDGET."""
    settings = action_settings()
    return FaqAnswerBook(settings.faq_answers_file, settings.sms_segment_budget)


def faq_topic(latest_message: Dict[Text, Any]) -> Optional[Text]:
    for entity in latest_message.get("entities") or []:
        if entity.get("entity") == "faq_topic":
            return str(entity.get("value"))
    selector = (latest_message.get("response_selector") or {}).get("faq") or {}
    key = (selector.get("response") or {}).get("intent_response_key") or ""
    return key.split("/", 1)[1] if key.startswith("faq/") else None


class ActionAnswerFaq(Action):
    def name(self) -> Text:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        topic = faq_topic(tracker.latest_message)
        answer = faq_answer_book().answer(topic) if topic else None
        if answer:
            dispatcher.utter_message(text=answer)
        else:
            dispatcher.utter_message(response="utter_ask_rephrase")
        return []
