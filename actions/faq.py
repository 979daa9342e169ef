"""action_answer_faq: the FAQ answer (responses `utter_faq/<topic>` in domain.yml).

Like Rasa's `utter_faq`, it uses the response selector's pick; it also accepts a
`faq_topic` entity, which is how a "Did you mean ...?" button names the topic.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher


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
        response = f"utter_faq/{topic}"
        if topic and response in (domain.get("responses") or {}):
            dispatcher.utter_message(response=response)
        else:
            dispatcher.utter_message(response="utter_ask_rephrase")
        return []
