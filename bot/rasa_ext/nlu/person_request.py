"""PersonRequest: an explicit ask for a person wins; a mere mention of people does not.

Placed after FallbackClassifier. "I need a human please, my order never arrived" becomes
`human_handoff` (confidence 1.0) and the task it names is kept as `handoff_task`, so the
handoff goes to the right team. A `human_handoff` guess for a text with no request in it
("the person at the front desk was nice") becomes `nlu_fallback` without that guess, for
bot.rasa_ext.nlu.confidence_band to decide.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.rasa_ext.person_request import asks_for_person, has_request_cue, task_in_text

HANDOFF = "human_handoff"
FALLBACK = "nlu_fallback"
TASK_INTENTS = ("track_order", "book_room", "my_requests", "cancel_request")
HANDOFF_TASK = "handoff_task"  # parse data key: the task named beside an ask for a person


def classifier_ranking(message: Message) -> List[Dict[Text, Any]]:
    """The intent ranking without FallbackClassifier's nlu_fallback entry."""
    return [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != FALLBACK]


def _task(text: Text, ranking: List[Dict[Text, Any]]) -> Optional[Text]:
    """The classifier's task intent when it saw one first, else the task words in the text."""
    top = next((r["name"] for r in ranking if r.get("name") != HANDOFF), None)
    return top if top in TASK_INTENTS else task_in_text(text)


def apply_person_request(message: Message) -> None:
    """Make an explicit ask `human_handoff`; drop a handoff guess for a mere mention."""
    text = message.get(TEXT) or ""
    ranking = classifier_ranking(message)
    others = [r for r in ranking if r.get("name") != HANDOFF]
    if asks_for_person(text):
        task = _task(text, ranking)
        message.set(INTENT, {"name": HANDOFF, "confidence": 1.0}, add_to_output=True)
        message.set(
            INTENT_RANKING_KEY, [{"name": HANDOFF, "confidence": 1.0}, *others], add_to_output=True
        )
        if task:
            message.set(HANDOFF_TASK, task, add_to_output=True)
    elif ranking and ranking[0].get("name") == HANDOFF and not has_request_cue(text):
        dropped = float(ranking[0].get("confidence") or 0.0)
        fallback = {"name": FALLBACK, "confidence": dropped}
        message.set(INTENT, fallback, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [fallback, *others], add_to_output=True)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class PersonRequest(GraphComponent):
    """Explicit asks for a person win over the classifier; mere mentions never hand off."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "PersonRequest":
        """A stateless component."""
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        """Apply the patterns to each message."""
        for message in messages:
            apply_person_request(message)
        return messages
