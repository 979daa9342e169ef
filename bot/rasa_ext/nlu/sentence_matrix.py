"""The classifiers' input: each message's sentence-level sparse and dense features, one row each."""

from __future__ import annotations

from typing import Any, Dict, List, Sequence

import numpy as np
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from scipy.sparse import csr_matrix, hstack, vstack


def _origin(features: Features) -> Any:
    return tuple(features.origin) if isinstance(features.origin, list) else features.origin


def _columns(messages: Sequence[Message], sparse: bool) -> List[Any]:
    """One [n_messages, width] block per featurizer, in the featurizers' order."""
    per_message: List[Dict[Any, Features]] = [
        {
            _origin(f): f
            for f in m.features
            if f.attribute == TEXT and f.type == FEATURE_TYPE_SENTENCE and f.is_sparse() == sparse
        }
        for m in messages
    ]
    layout = max(per_message, key=len, default={})
    blocks = []
    for origin, example in layout.items():
        width = example.features.shape[1]
        empty = csr_matrix((1, width)) if sparse else np.zeros((1, width), dtype=np.float32)
        rows = [
            found.features if (found := features.get(origin)) is not None else empty
            for features in per_message
        ]  # a text without features (e.g. empty) is a row of zeros
        blocks.append(vstack(rows, format="csr") if sparse else np.concatenate(rows, axis=0))
    return blocks


def sentence_matrix(messages: Sequence[Message]) -> csr_matrix:
    """[n_messages, n_sparse + n_dense]: sparse features then dense, each in pipeline order.

    The same matrix as Rasa's LogisticRegressionClassifier builds from
    `get_sparse_features`/`get_dense_features` per message, without copying and
    hstacking every message's features one by one (~10 s of `rasa train` for ~4k texts).
    """
    sparse = _columns(messages, sparse=True)
    dense = _columns(messages, sparse=False)
    blocks = sparse + ([csr_matrix(np.concatenate(dense, axis=1))] if dense else [])
    if not blocks:
        return csr_matrix((len(messages), 0))
    return hstack(blocks, format="csr")
