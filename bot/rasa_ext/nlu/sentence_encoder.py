"""Dense sentence features from a pretrained sentence encoder.

Rasa's LanguageModelFeaturizer takes BERT's [CLS] vector as the sentence vector, but
sentence encoders such as all-MiniLM-L6-v2 were trained on the mean of their token
vectors. This featurizer adds, for TEXT:
- a sentence feature [1, dim]: the mean-pooled, L2-normalised encoder output (times
  `scale`, so that it is not drowned by the sparse n-gram counts under the classifiers'
  L2 penalty);
- a sequence feature [n_tokens, dim]: for each token of the pipeline's tokenizer, the mean
  of the encoder's wordpiece vectors inside that token (zeros where there are none).
The LogisticRegressionClassifier and LinearResponseSelector hstack the sentence feature
with the sparse ones. The encoder runs on onnxruntime (bot/rasa_ext/nlu/encoders.py); its weights
are read once per process, when the component is created.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Dict, List, Optional, Sequence, Text, Tuple, Type

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.rasa_ext.nlu.encoders import (
    ENCODERS,
    SentenceEncoder,
    get_encoder,
    mean_pool,
    token_vectors,
)

logger = logging.getLogger(__name__)

Span = Tuple[int, int]
FeaturePair = Tuple[np.ndarray, np.ndarray]  # (sequence [n_tokens, dim], sentence [1, dim])


def token_spans(message: Message) -> List[Span]:
    """Character spans of the message's TEXT tokens (from the pipeline's tokenizer)."""
    return [(token.start, token.end) for token in message.get(TOKENS_NAMES[TEXT]) or []]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEncoderFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds mean-pooled sentence-encoder vectors as dense TEXT features."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            "encoder": "minilm",  # a key of bot.rasa_ext.nlu.encoders.ENCODERS
            "scale": 5.0,  # multiplies the unit-length vectors (bench/encoders.py: 3 < 5 ~ 8)
            "threads": 1,  # onnxruntime intra-op threads when parsing (one per text)
            "train_threads": 0,  # when featurizing the training data; 0 = all cores
            "batch_size": 32,  # texts per forward pass during training
        }

    @staticmethod
    def required_packages() -> List[Text]:
        return ["onnxruntime", "tokenizers", "onnx", "safetensors"]

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        if config.get("encoder") not in ENCODERS:
            raise InvalidConfigException(
                f"SentenceEncoderFeaturizer: unknown encoder {config.get('encoder')!r}; "
                f"choose one of {sorted(ENCODERS)}."
            )
        if float(config.get("scale", 1.0)) <= 0:
            raise InvalidConfigException("SentenceEncoderFeaturizer: scale must be > 0.")

    def __init__(self, config: Dict[Text, Any], name: Text) -> None:
        full = {**self.get_default_config(), **config}
        super().__init__(name, full)
        self.config = full
        self.scale = float(full["scale"])
        self.encoder: SentenceEncoder = get_encoder(full["encoder"], int(full["threads"]))

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SentenceEncoderFeaturizer":
        component = cls(config, execution_context.node_name)
        component.encoder.load()  # once per process: get_encoder shares it
        return component

    def features_for(
        self,
        items: Sequence[Tuple[Text, Sequence[Span]]],
        encoder: Optional[SentenceEncoder] = None,
    ) -> List[FeaturePair]:
        """(sequence, sentence) feature matrices for (text, token spans) pairs."""
        if not items:
            return []
        _, hidden, encodings = (encoder or self.encoder).encode(
            [text for text, _ in items], batch_size=int(self.config["batch_size"])
        )
        out = []
        for (_, spans), states, encoding in zip(items, hidden, encodings, strict=True):
            sequence = token_vectors(states, encoding, spans) * self.scale
            sentence = (mean_pool(states) * self.scale).reshape(1, -1).astype(np.float32)
            out.append((sequence.astype(np.float32), sentence))
        return out

    def _featurize(
        self, messages: Sequence[Message], encoder: Optional[SentenceEncoder] = None
    ) -> None:
        """Adds the features to messages that have a TEXT."""
        with_text = [m for m in messages if m.get(TEXT)]
        pairs = self.features_for([(m.get(TEXT), token_spans(m)) for m in with_text], encoder)
        for message, (sequence, sentence) in zip(with_text, pairs, strict=True):
            self.add_features_to_message(sequence, sentence, TEXT, message)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        # A batch job: all cores, unlike parsing, where one thread per text serves
        # concurrent requests better.
        threads = int(self.config["train_threads"]) or os.cpu_count() or 1
        encoder = get_encoder(self.config["encoder"], threads)
        self._featurize(training_data.training_examples, encoder)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        self._featurize(messages)
        return messages

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "SentenceEncoderFeaturizer":
        return cls.create(config, model_storage, resource, execution_context)
