"""The NLU sentence encoder on the real installed weights, offline."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest

from bot.rasa_ext.nlu.encoders import (
    ENCODERS,
    SentenceEncoder,
    get_encoder,
    sha256_of,
    weights_path,
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def encoder() -> Iterator[SentenceEncoder]:
    """all-MiniLM-L6-v2 from the weights package, with the model hub switched off."""
    saved = os.environ.get("HF_HUB_OFFLINE")
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        yield get_encoder("minilm").load()
    finally:
        if saved is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = saved


def vector(encoder: SentenceEncoder, text: str) -> np.ndarray:
    """Sentence vector of one text."""
    return encoder.encode([text])[0][0]


def test_weights_file_matches_pinned_sha256() -> None:
    spec = ENCODERS["minilm"]
    assert sha256_of(weights_path(spec)) == spec.weights_sha256


def test_weights_package_is_hash_pinned() -> None:
    pinned = (ROOT / "requirements-model.txt").read_text()
    assert re.search(rf"^{ENCODERS['minilm'].package}==\S+ \\$", pinned, re.M)
    assert "--hash=sha256:" in pinned


def test_similar_sentences_are_closer_than_unrelated(encoder: SentenceEncoder) -> None:
    package = vector(encoder, "where is my package")
    parcel = vector(encoder, "when will my parcel arrive")
    weather = vector(encoder, "what's the weather in Paris")
    assert float(package @ parcel) > float(package @ weather) + 0.2
    room = vector(encoder, "I'd like to book a room for two nights")
    stay = vector(encoder, "can I reserve a hotel room for the weekend")
    assert float(room @ stay) > float(room @ package)


def test_vectors_are_unit_length_deterministic_and_padding_free(
    encoder: SentenceEncoder,
) -> None:
    texts = ["hi", "where is my order", "can i bring my dog to the hotel on friday?"]
    first, _, _ = encoder.encode(texts)
    again, _, _ = encoder.encode(texts)
    assert first.shape == (3, 384) and first.dtype == np.float32
    np.testing.assert_array_equal(first, again)
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    alone = np.stack([vector(encoder, t) for t in texts])  # batched == one at a time
    np.testing.assert_allclose(first, alone, atol=1e-5)


def test_featurizer_adds_sentence_and_token_aligned_sequence_features(
    encoder: SentenceEncoder,
) -> None:
    from rasa.engine.graph import ExecutionContext
    from rasa.engine.storage.resource import Resource
    from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
    from rasa.shared.nlu.constants import TEXT
    from rasa.shared.nlu.training_data.message import Message

    from bot.rasa_ext.nlu.sentence_encoder import SentenceEncoderFeaturizer

    context = ExecutionContext(graph_schema=None, node_name="encoder")  # type: ignore[arg-type]
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    featurizer = SentenceEncoderFeaturizer.create(
        {"encoder": "minilm", "scale": 2.0},
        None,
        Resource("encoder"),
        context,  # type: ignore
    )
    message = Message(data={TEXT: "Where's my parcel, order A1234?"})
    tokenizer.process([message])
    featurizer.process([message])
    sequence, sentence = message.get_dense_features(TEXT)
    tokens = message.get("text_tokens")
    assert sequence.features.shape == (len(tokens), 384)
    assert sentence.features.shape == (1, 384)
    assert np.linalg.norm(sentence.features) == pytest.approx(2.0, abs=1e-4)
    assert np.all(np.linalg.norm(sequence.features, axis=1) > 0)  # every token got wordpieces
    expected = vector(encoder, "Where's my parcel, order A1234?") * 2.0
    np.testing.assert_allclose(sentence.features[0], expected, atol=1e-5)


def test_unknown_encoder_is_a_config_error() -> None:
    from rasa.shared.exceptions import InvalidConfigException

    from bot.rasa_ext.nlu.sentence_encoder import SentenceEncoderFeaturizer

    with pytest.raises(InvalidConfigException):
        SentenceEncoderFeaturizer({"encoder": "nope"}, "encoder")
