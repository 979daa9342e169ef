"""The training speed-ups change no model input: same NLU data, same cache keys, one read.

Each side is a real `rasa train --dry-run` of the project (tests/train_probe.py) in its own
process, one bare, one with bot/rasa_ext/train_speedups.py installed as
`python -m bot.rasa_ext.train` (make train) installs it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest

from bot.launcher import child_env
from bot.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow


def probe(mode: str, cache: Path) -> Dict[str, Any]:
    """What a dry run sees, bare or patched, with an empty Rasa cache of its own."""
    result = subprocess.run(
        [sys.executable, "-m", "tests.train_probe", mode],
        cwd=PROJECT_ROOT,
        env=child_env({"RASA_CACHE_DIRECTORY": str(cache)}),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_patched_training_reads_the_nlu_once_and_sees_the_same_data_and_keys(
    tmp_path: Path,
) -> None:
    bare = probe("bare", tmp_path / "bare")
    patched = probe("patched", tmp_path / "patched")
    assert bare["reads"] == 2  # Rasa alone: get_nlu_data() and get_nlu_data(language="en")
    assert patched["reads"] == 1
    assert len(bare["seen"]) == 1 and bare["seen"][0]["count"] > 4000
    assert patched["seen"] == bare["seen"]  # fingerprint, every example, the intents
    names = {name for name, _ in bare["keys"]}
    assert {"WhitespaceTokenizer", "TrainingTrackerProvider"} <= names
    assert patched["keys"] == bare["keys"]


def test_sanitize_keeps_rasas_result() -> None:
    """Stripped intents and responses, duplicates dropped, order kept; clean ones untouched."""
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from bot.rasa_ext.train_speedups import sanitize_examples

    def examples() -> list:
        return [
            Message(data={"text": "hi", "intent": "greet "}),
            Message(data={"text": "hi", "intent": "greet"}),
            Message(data={"text": "wifi?", "intent": "faq", "response": " on the card "}),
            Message(data={"text": "bye", "intent": "goodbye"}),
        ]

    assert TrainingData.sanitize_examples is not sanitize_examples  # Rasa's own, to compare
    original = [m.data for m in TrainingData.sanitize_examples(examples())]
    clean = examples()
    fingerprint = clean[3].fingerprint()
    assert [m.data for m in sanitize_examples(clean)] == original
    assert clean[3]._cached_fingerprint == fingerprint  # not reset: nothing changed


def test_message_copy_is_rasas_deep_copy() -> None:
    """Same attributes and values; nothing mutable shared with the original."""
    import copy

    import numpy as np
    from rasa.shared.nlu.training_data.features import Features
    from rasa.shared.nlu.training_data.message import Message

    from bot.rasa_ext.train_speedups import message_deepcopy

    entities = [{"entity": "order_id", "value": "A1001", "start": 6, "end": 11}]
    message = Message(
        data={"text": "track A1001", "intent": "track_order", "entities": entities},
        features=[Features(np.ones((1, 3)), "sentence", "text", "CountVectorsFeaturizer")],
    )
    message.fingerprint()
    assert not hasattr(Message, "__deepcopy__")  # Rasa's own copy, to compare with
    ours, rasas = message_deepcopy(message, {}), copy.deepcopy(message)
    assert type(ours) is Message
    assert ours.__dict__.keys() == rasas.__dict__.keys()
    assert ours.data == rasas.data == message.data
    assert ours.output_properties == message.output_properties
    assert ours.fingerprint() == rasas.fingerprint() == message.fingerprint()
    assert ours.data is not message.data
    assert ours.data["entities"] is not entities and ours.data["entities"][0] is not entities[0]
    assert ours.output_properties is not message.output_properties
    assert ours.features[0] is not message.features[0]
    assert (ours.features[0].features == message.features[0].features).all()
    ours.data["entities"][0]["value"] = "B2002"
    assert entities[0]["value"] == "A1001"


NLU_SCHEMA = "shared/nlu/training_data/schemas/nlu.yml"


def test_schema_check_passes_what_rasa_passes_and_raises_rasas_errors() -> None:
    """A valid file is checked once without Rasa's slow check; a bad one gets Rasa's error."""
    from rasa.shared.exceptions import YamlSyntaxException
    from rasa.shared.utils.validation import YamlValidationException, validate_yaml_schema

    from bot.rasa_ext.train_speedups import validated_once

    calls: List[str] = []

    def rasas_check(content: str, schema_path: str, package_name: str = "rasa") -> None:
        calls.append(content)
        validate_yaml_schema(content, schema_path, package_name)

    check = validated_once(rasas_check)
    valid = 'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hi\n    - hello\n'
    check(valid, NLU_SCHEMA)
    check(valid, NLU_SCHEMA)
    assert calls == []

    wrong_type = 'version: "3.1"\nnlu:\n- intent: greet\n  examples: 5\n'
    with pytest.raises(YamlValidationException) as ours:
        check(wrong_type, NLU_SCHEMA)
    with pytest.raises(YamlValidationException) as rasas:
        validate_yaml_schema(wrong_type, NLU_SCHEMA)
    assert str(ours.value) == str(rasas.value)
    assert "in Line 3" in str(ours.value)  # Rasa's line numbers, from its round-trip parse
    with pytest.raises(YamlSyntaxException):
        check('nlu:\n- intent: greet\n  examples: "unclosed\n', NLU_SCHEMA)
    with pytest.raises(YamlValidationException):
        check(wrong_type, NLU_SCHEMA)  # a rejected content is never remembered as valid
    assert calls == [wrong_type, 'nlu:\n- intent: greet\n  examples: "unclosed\n', wrong_type]
