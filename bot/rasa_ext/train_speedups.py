"""Three costs of `rasa train` (Rasa 3.6) cut; the trained model is unchanged.

1. The importers' `get_nlu_data` is cached per call signature, and Rasa calls it as
   `get_nlu_data()` (model_training, ResponsesSyncImporter.get_domain) and as
   `get_nlu_data(language="en")` (the graph's NLUTrainingDataProvider, recipe language
   "en"): every NLU file was read, parsed and merged twice. The default language is "en",
   so both ask for the same data; the calls now share one cache entry (the language is
   passed positionally, `None` stays `None`).
2. `TrainingData.sanitize_examples` sets every example's intent to its stripped self,
   and `Message.set` drops the message's cached fingerprint, so every merge of training
   data (about a dozen per train) hashed all 4,100 examples again. It now sets only the
   values that stripping changes; the examples and their fingerprints are the same.
3. TensorFlow (which Rasa imports for its own policies even when none is used) tries
   `from jax import xla_computation` for its TFLite converter and imports JAX, ~1 s of
   CPU. Training converts nothing to TFLite and nothing else imports JAX: the training
   process marks `jax` as not importable (TensorFlow's own fallback, `None`, is taken).

The NLU data and every fingerprint key stay the same, so a retrain still restores the
cached components. Installed explicitly by `python -m bot.rasa_ext.train` (the Makefile's
`train`); importing this module changes nothing. Measured with bench/designer_loop.py.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, Callable, List, Optional, Text

logger = logging.getLogger(__name__)
_installed = False


def install() -> None:
    """Patch the importers and TrainingData, block JAX; once per process (idempotent)."""
    global _installed
    if _installed:
        return
    if "jax" not in sys.modules:
        sys.modules["jax"] = None  # type: ignore[assignment]  # import jax: ImportError
    from rasa.shared.importers.importer import (
        CombinedDataImporter,
        E2EImporter,
        ResponsesSyncImporter,
    )
    from rasa.shared.nlu.training_data.training_data import TrainingData

    for importer_class in (E2EImporter, ResponsesSyncImporter, CombinedDataImporter):
        importer_class.get_nlu_data = _one_cache_key(importer_class.get_nlu_data)
    TrainingData.sanitize_examples = staticmethod(sanitize_examples)
    _installed = True
    logger.debug("installed the training speed-ups")


def _one_cache_key(cached: Callable[..., Any]) -> Callable[..., Any]:
    """`cached` (a cached_method) called with the language always positional."""

    def get_nlu_data(self: Any, language: Optional[Text] = "en") -> Any:
        return cached(self, language)

    get_nlu_data.__doc__ = cached.__doc__
    get_nlu_data.__wrapped__ = cached  # type: ignore[attr-defined]
    return get_nlu_data


def sanitize_examples(examples: List[Any]) -> List[Any]:
    """Rasa's sanitize_examples, touching only the values that stripping changes."""
    from collections import OrderedDict

    from rasa.shared.nlu.constants import INTENT, RESPONSE

    for example in examples:
        for key in (INTENT, RESPONSE):
            value = example.get(key)
            if value and value.strip() != value:
                example.set(key, value.strip())
    return list(OrderedDict.fromkeys(examples))
