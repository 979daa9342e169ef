"""The classifiers' feature matrix equals Rasa's per-message build, row for row."""

from __future__ import annotations

from typing import List

import numpy as np
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, FEATURE_TYPE_SEQUENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from scipy.sparse import coo_matrix, csr_matrix, hstack, vstack

from bot.rasa_ext.nlu.sentence_matrix import sentence_matrix


def rasa_rows(messages: List[Message]) -> csr_matrix:
    """What rasa's LogisticRegressionClassifier._create_X builds."""
    rows = []
    for m in messages:
        sparse = m.get_sparse_features(attribute=TEXT)[1]
        dense = m.get_dense_features(attribute=TEXT)[1]
        rows.append(
            hstack(
                [
                    csr_matrix(sparse.features if sparse else []),
                    csr_matrix(dense.features if dense else []),
                ]
            )
        )
    return vstack(rows).tocsr()


def message(text: str, rng: np.random.Generator) -> Message:
    m = Message(data={TEXT: text})
    for origin, width in (("words", 7), ("chars", 11)):
        dense_row = (rng.random((1, width)) > 0.6) * rng.integers(1, 4, (1, width))
        m.add_features(Features(coo_matrix(dense_row), FEATURE_TYPE_SENTENCE, TEXT, origin))
        m.add_features(
            Features(coo_matrix(np.ones((2, width))), FEATURE_TYPE_SEQUENCE, TEXT, origin)
        )
    m.add_features(
        Features(rng.random((1, 5)).astype(np.float32), FEATURE_TYPE_SENTENCE, TEXT, "encoder")
    )
    m.add_features(Features(np.ones((2, 5), np.float32), FEATURE_TYPE_SEQUENCE, TEXT, "encoder"))
    return m


def test_same_matrix_as_rasa_per_message_build() -> None:
    rng = np.random.default_rng(7)
    messages = [message(f"text {i}", rng) for i in range(40)]
    ours = sentence_matrix(messages)
    assert ours.shape == (40, 7 + 11 + 5)
    assert np.array_equal(ours.toarray(), rasa_rows(messages).toarray())


def test_a_message_without_features_is_a_row_of_zeros() -> None:
    rng = np.random.default_rng(8)
    messages = [message("a", rng), Message(data={TEXT: ""}), message("b", rng)]
    matrix = sentence_matrix(messages).toarray()
    assert matrix.shape == (3, 23)
    assert not matrix[1].any()
    assert np.array_equal(matrix[[0, 2]], rasa_rows([messages[0], messages[2]]).toarray())


def test_no_features_at_all_is_an_empty_matrix() -> None:
    assert sentence_matrix([Message(data={TEXT: "x"})]).shape == (1, 0)
