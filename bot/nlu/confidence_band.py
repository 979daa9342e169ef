"""ConfidenceBand: clarify only a plausible guess; below the band, out of scope.

Placed after FallbackClassifier (whose `threshold` is the band's top edge). When the intent
is `nlu_fallback` and the classifier's top candidate is `out_of_scope` or scored below
`low`, the intent becomes `out_of_scope` (the ranking is kept); otherwise `nlu_fallback`
stays and the two-stage fallback asks "did you want to ...?". `low` and the
FallbackClassifier threshold are chosen by `python -m bench.tune_band` (cross-validation).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message

FALLBACK = "nlu_fallback"
OUT_OF_SCOPE = "out_of_scope"


def band_decision(ranking: List[Dict[Text, Any]], low: float) -> Optional[Text]:
    """`out_of_scope` when a not-understood text's best guess is implausible, else None."""
    candidates = [r for r in ranking if r.get("name") != FALLBACK]
    if not candidates:
        return None
    top = candidates[0]
    if top.get("name") == OUT_OF_SCOPE or float(top.get("confidence") or 0.0) < low:
        return OUT_OF_SCOPE
    return None


def apply_band(message: Message, low: float) -> None:
    """Turn an implausible `nlu_fallback` into `out_of_scope`, keeping the ranking."""
    if (message.get(INTENT) or {}).get("name") != FALLBACK:
        return
    ranking = message.get(INTENT_RANKING_KEY) or []
    if band_decision(ranking, low) == OUT_OF_SCOPE:
        oos = next((r for r in ranking if r.get("name") == OUT_OF_SCOPE), {})
        confidence = float(oos.get("confidence") or 0.0)
        message.set(INTENT, {"name": OUT_OF_SCOPE, "confidence": confidence}, add_to_output=True)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class ConfidenceBand(GraphComponent):
    """Clarification only inside [low, threshold); below it, out of scope."""

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
