"""Fast changes (docs/designing.md): after a story edit `make train`'s command restores the
whole NLU from Rasa's cache and trains only the policies; an FAQ answer edit trains nothing.

In a copy of the project (bench/designer_loop.py's, code linked) starting from a copy of
the project's trained cache, which `make train` (run by `make test` before pytest) fills.
The times are bench/designer_loop.py's job (docs/benchmarks.md, Designer loop).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench.designer_loop import (
    MAKE_TRAIN,
    NLU_COMPONENTS,
    TRAIN,
    edit_story,
    make_copy,
    restored_and_trained,
    timed,
)
from bot.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow

CACHE = PROJECT_ROOT / ".rasa" / "cache"
POLICIES = ["MemoizationPolicy", "RulePolicy"]  # config.yml's policies


def test_a_story_edit_reuses_the_nlu_and_an_faq_answer_edit_trains_nothing(
    trained_model: Path, tmp_path: Path
) -> None:
    if not (CACHE / "cache.db").exists():
        pytest.skip(f"no Rasa cache at {CACHE} (make train fills it; this checkout has none)")
    root = tmp_path / "project"
    root.mkdir()
    make_copy(root)
    shutil.copytree(CACHE, root / ".rasa" / "cache")

    edit_story(root, "(edited)")
    _, _, output = timed(MAKE_TRAIN, root)
    restored, trained = restored_and_trained(output)
    assert (root / "models" / "sms-bot.tar.gz").exists(), output[-3000:]
    assert restored >= NLU_COMPONENTS and sorted(trained) == POLICIES, output[-3000:]

    answers = root / "data" / "faq_answers.yml"
    text = answers.read_text()
    assert "Street parking" in text
    answers.write_text(text.replace("Street parking", "Free street parking"))
    _, _, output = timed(TRAIN + ["--skip-validation", "--dry-run"], root)
    assert "No training of components required" in output, output[-3000:]
    # the control: a story edit is seen by the same dry run
    edit_story(root, "(edited again)")
    _, _, output = timed(TRAIN + ["--skip-validation", "--dry-run"], root)
    assert "No training of components required" not in output, output[-3000:]
