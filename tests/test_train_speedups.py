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
from typing import Any, Dict

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
