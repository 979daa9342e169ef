"""SMS keyword shortcuts (MENU, AGENT, REQUEST, ORDER <number>) that win over the classifier.

Placed last in the pipeline so a keyword works in any dialogue state, even when the
classifier or the FallbackClassifier would have said something else.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.rasa_ext.keywords import match_keyword


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class KeywordIntentOverride(GraphComponent):
    """Sets intent (confidence 1.0) for whole-message SMS keywords."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "KeywordIntentOverride":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            found = match_keyword(message.get(TEXT) or "")
            if not found:
                continue
            intent, order_number = found
            message.set("intent", {"name": intent, "confidence": 1.0}, add_to_output=True)
            message.set("intent_ranking", [{"name": intent, "confidence": 1.0}], add_to_output=True)
            if order_number:
                entities = [
                    e for e in message.get("entities", []) if e.get("entity") != "order_number"
                ]
                text = message.get(TEXT)
                start = text.upper().find(order_number)
                entities.append(
                    {
                        "entity": "order_number",
                        "value": order_number,
                        "start": start,
                        "end": start + len(order_number),
                        "extractor": self.__class__.__name__,
                    }
                )
                message.set("entities", entities, add_to_output=True)
        return messages
