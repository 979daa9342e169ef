"""Five costs of `rasa train` (Rasa 3.6) cut; the trained model is unchanged.

1. The importers' `get_nlu_data` is cached per call signature, and Rasa calls it as
   `get_nlu_data()` (model_training, ResponsesSyncImporter.get_domain) and as
   `get_nlu_data(language="en")` (the graph's NLUTrainingDataProvider, recipe language
   "en"): every NLU file was read, parsed and merged twice. The default language is "en",
   so both ask for the same data; the calls now share one cache entry (the language is
   passed positionally, `None` stays `None`).
2. `TrainingData.sanitize_examples` sets every example's intent to its stripped self,
   and `Message.set` drops the message's cached fingerprint, so every merge of training
   data (about a dozen per train) hashed all 4,000 examples again. It now sets only the
   values that stripping changes; the examples and their fingerprints are the same.
3. TensorFlow (which Rasa imports for its own policies even when none is used) tries
   `from jax import xla_computation` for its TFLite converter and imports JAX, ~1 s of
   CPU. Training converts nothing to TFLite and nothing else imports JAX: the training
   process marks `jax` as not importable (TensorFlow's own fallback, `None`, is taken).
4. `TrainingData.merge` deep-copies every example, and each import merges the data several
   times. A Message is now copied attribute by attribute: strings and numbers as they are
   (`copy.deepcopy` returns them as they are too), flat lists and sets of them copied,
   anything else deep-copied; the copy is equal and shares nothing mutable.
5. Every YAML file read is checked against Rasa's schema after a second, round-trip parse
   (pure Python, ~15x slower than the safe parse Rasa trains on), with the schema files
   read again each time, and config.yml is checked a dozen times per train. A content
   checked against a schema is now not checked again, and the check runs on the safe
   parse with the schema read once; whatever it rejects goes to Rasa's own check, which
   raises Rasa's error with its line numbers (or passes the file, as before).

The NLU data and every fingerprint key stay the same, so a retrain still restores the
cached components. Installed explicitly by `python -m bot.rasa_ext.train` (the Makefile's
`train`); importing this module changes nothing. Measured with bench/designer_loop.py.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import logging
import sys
from typing import Any, Callable, Dict, List, Optional, Set, Text, Tuple

from bot.rasa_ext.once import once

logger = logging.getLogger(__name__)


@once
def install() -> None:
    """Patch the importers and TrainingData, block JAX; once per process (idempotent)."""
    if "jax" not in sys.modules:
        sys.modules["jax"] = None  # type: ignore[assignment]  # import jax: ImportError
    import rasa.shared.utils.validation as validation
    from rasa.shared.importers.importer import (
        CombinedDataImporter,
        E2EImporter,
        ResponsesSyncImporter,
    )
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    for importer_class in (E2EImporter, ResponsesSyncImporter, CombinedDataImporter):
        importer_class.get_nlu_data = _one_cache_key(importer_class.get_nlu_data)
    TrainingData.sanitize_examples = staticmethod(sanitize_examples)
    Message.__deepcopy__ = message_deepcopy  # type: ignore[attr-defined]
    validation.validate_yaml_schema = validated_once(validation.validate_yaml_schema)
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


def message_deepcopy(message: Any, memo: Dict[int, Any]) -> Any:
    """`copy.deepcopy(message)`: an equal Message sharing nothing mutable with the original."""
    clone = message.__class__.__new__(message.__class__)
    memo[id(message)] = clone
    for name, value in message.__dict__.items():
        if id(value) in memo:
            value = memo[id(value)]
        elif name == "data" and type(value) is dict:
            data: Dict[Text, Any] = {}
            memo[id(value)] = data
            for key, item in value.items():
                data[key] = _copied(item, memo)
            value = data
        else:
            value = _copied(value, memo)
        clone.__dict__[name] = value
    return clone


def _copied(value: Any, memo: Dict[int, Any]) -> Any:
    """A deep copy of `value`; immutable values as they are, flat lists and sets copied."""
    kind = type(value)
    if kind in _IMMUTABLE:
        return value
    if kind in (list, set) and all(type(item) in _IMMUTABLE for item in value):
        return kind(value)
    return copy.deepcopy(value, memo)


_IMMUTABLE = (str, int, float, bool, type(None))


def validated_once(check: Callable[..., None]) -> Callable[..., None]:
    """Rasa's `validate_yaml_schema` (`check`), run only on what the fast check rejects."""
    valid: Set[Tuple[str, Text, Text]] = set()

    def validate_yaml_schema(
        yaml_file_content: Text, schema_path: Text, package_name: Text = "rasa"
    ) -> None:
        key = (
            hashlib.sha256(yaml_file_content.encode("utf-8")).hexdigest(),
            schema_path,
            package_name,
        )
        if key in valid:
            return
        if not _passes_schema(yaml_file_content, schema_path, package_name):
            check(yaml_file_content, schema_path, package_name)  # raises Rasa's error
        valid.add(key)

    validate_yaml_schema.__doc__ = check.__doc__
    validate_yaml_schema.__wrapped__ = check  # type: ignore[attr-defined]
    return validate_yaml_schema


def _passes_schema(content: Text, schema_path: Text, package_name: Text) -> bool:
    """Whether the safe parse of `content` fits the schema (False on any error)."""
    import rasa.shared.utils.io
    from pykwalify.core import Core

    logging.getLogger("pykwalify").setLevel(logging.CRITICAL)
    try:
        source_data = rasa.shared.utils.io.read_yaml(content)
        schema, extensions = _schema(schema_path, package_name)
        core = Core(
            source_data=source_data, schema_data=copy.deepcopy(schema), extensions=[extensions]
        )
        core.validate(raise_exception=True)
    except Exception:  # noqa: BLE001  (any doubt: Rasa's own check decides and reports)
        return False
    return True


@functools.lru_cache(maxsize=None)
def _schema(schema_path: Text, package_name: Text) -> Tuple[Dict[Text, Any], Text]:
    """The schema as Rasa's check builds it, and its pykwalify extensions file."""
    import pkg_resources
    import rasa.shared.utils.io
    from rasa.shared.constants import RESPONSES_SCHEMA_FILE, SCHEMA_EXTENSIONS_FILE

    schema = rasa.shared.utils.io.read_yaml_file(
        pkg_resources.resource_filename(package_name, schema_path)
    )
    responses = rasa.shared.utils.io.read_yaml_file(
        pkg_resources.resource_filename("rasa", RESPONSES_SCHEMA_FILE)
    )
    extensions = pkg_resources.resource_filename("rasa", SCHEMA_EXTENSIONS_FILE)
    return dict(schema, **responses), extensions
