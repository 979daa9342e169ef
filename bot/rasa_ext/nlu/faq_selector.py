"""A light response selector: logistic regression over the pipeline's sparse features.

Rasa's own ResponseSelector is a DIET transformer; for short FAQ texts a linear model on
word and char n-grams is as accurate, trains in a second and answers in well under 1 ms.
It writes the same `response_selector` parse data, so `utter_faq` works unchanged.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text, Type

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.featurizer import Featurizer
from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.linear_model import LogisticRegression

from bot.rasa_ext.nlu.sentence_matrix import sentence_matrix

logger = logging.getLogger(__name__)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearResponseSelector(GraphComponent):
    """Picks the sub-intent (e.g. `faq/wifi`) of a retrieval intent."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [Featurizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"retrieval_intent": "faq", "max_iter": 200, "C": 10.0, "ranking_length": 5}

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        clf: Optional[LogisticRegression] = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.clf = clf

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "LinearResponseSelector":
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        intent = self.config["retrieval_intent"]
        examples = [
            e
            for e in training_data.intent_examples
            if e.get(INTENT) == intent and e.get(INTENT_RESPONSE_KEY) and e.get(TEXT)
        ]
        if len({e.get(INTENT_RESPONSE_KEY) for e in examples}) < 2:
            logger.warning("Fewer than two '%s' sub-intents: selector not trained.", intent)
            return self._resource
        X = sentence_matrix(examples)
        y = [e.get(INTENT_RESPONSE_KEY) for e in examples]
        self.clf = LogisticRegression(
            C=self.config["C"],
            max_iter=self.config["max_iter"],
            class_weight="balanced",
            random_state=42,
        )
        self.clf.fit(X, y)
        self.persist()
        return self._resource

    def process(self, messages: List[Message]) -> List[Message]:
        intent = self.config["retrieval_intent"]
        all_probas = self.clf.predict_proba(sentence_matrix(messages)) if self.clf else None
        for row, message in enumerate(messages):
            selector = message.get("response_selector") or {}
            selector["all_retrieval_intents"] = [intent]
            if self.clf is not None and all_probas is not None:
                probas = all_probas[row]
                ranked = sorted(
                    zip(self.clf.classes_, probas, strict=False), key=lambda pair: -pair[1]
                )[: self.config["ranking_length"]]
                key, confidence = ranked[0]
                selector[intent] = {
                    "response": {
                        "responses": None,
                        "confidence": float(confidence),
                        "intent_response_key": key,
                        "utter_action": f"utter_{key}",
                    },
                    "ranking": [
                        {"confidence": float(c), "intent_response_key": k} for k, c in ranked
                    ],
                }
            message.set("response_selector", selector, add_to_output=True)
        return messages

    def persist(self) -> None:
        import skops.io as sio

        with self._model_storage.write_to(self._resource) as model_dir:
            sio.dump(self.clf, model_dir / "selector.skops")

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "LinearResponseSelector":
        import skops.io as sio

        try:
            with model_storage.read_from(resource) as model_dir:
                path = model_dir / "selector.skops"
                clf = sio.load(path, trusted=sio.get_untrusted_types(file=path))
        except (ValueError, FileNotFoundError):
            logger.warning("No trained response selector found; FAQ answers disabled.")
            clf = None
        return cls(config, model_storage, resource, clf)
