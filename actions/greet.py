"""action_greet: "Hi Alex! ..." for a known customer, "Hi! ..." for anyone else."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.personal import first_name, utter_personal


class ActionGreet(Action):
    def name(self) -> Text:
        return "action_greet"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        utter_personal(dispatcher, "utter_greet", await first_name(tracker))
        return []
