"""ConfidenceBand: clarify only a plausible guess; below the band, the out-of-scope answer.

Placed after FallbackClassifier (whose `threshold` is the band's top edge). When the intent
is `nlu_fallback` and the classifier's top candidate is `out_of_scope` or scored below
`low`, the message gets the entity `implausible_guess` (value: that candidate; no span),
and the rule "nlu_fallback with implausible_guess -> utter_out_of_scope"
(data/rules/fallback_handoff.yml, longer than the plain nlu_fallback rule, so it wins)
gives the out-of-scope answer. Otherwise the two-stage fallback asks "did you want to ...?".

The intent stays `nlu_fallback` on purpose: the forms take an unsure text as an answer
("late checkout" for special requests) but treat `out_of_scope` as a change of subject.
`low` and the FallbackClassifier threshold are chosen by `python -m bench.tune_band`.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message

from bot.rasa_ext.fallback_band import IMPLAUSIBLE

FALLBACK = "nlu_fallback"
OUT_OF_SCOPE = "out_of_scope"


def band_decision(ranking: List[Dict[Text, Any]], low: float) -> Optional[Text]:
    """The implausible top guess of a not-understood text (out_of_scope or below `low`)."""
    candidates = [r for r in ranking if r.get("name") != FALLBACK]
    if not candidates:
        return None
    top = candidates[0]
    if top.get("name") == OUT_OF_SCOPE or float(top.get("confidence") or 0.0) < low:
        return str(top.get("name"))
    return None


def apply_band(message: Message, low: float) -> None:
    """Mark an `nlu_fallback` whose best guess is implausible (intent and ranking kept)."""
    if (message.get(INTENT) or {}).get("name") != FALLBACK:
        return
    guess = band_decision(message.get(INTENT_RANKING_KEY) or [], low)
    if guess is None:
        return
    marker = {"entity": IMPLAUSIBLE, "value": guess, "extractor": "ConfidenceBand"}
    entities = [e for e in message.get(ENTITIES) or [] if e.get("entity") != IMPLAUSIBLE]
    message.set(ENTITIES, [*entities, marker], add_to_output=True)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class ConfidenceBand(GraphComponent):
    """Clarification only inside [low, threshold); below it, the out-of-scope answer."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """`low`: the band's lower edge (its upper edge is FallbackClassifier's threshold)."""
        return {"low": 0.3}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.low = float({**self.get_default_config(), **config}["low"])

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "ConfidenceBand":
        """A stateless component configured by `low`."""
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        """Apply the band to each message."""
        for message in messages:
            apply_band(message, self.low)
        return messages
