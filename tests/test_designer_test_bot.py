"""`make test-bot` (python -m bot test-bot): short report printed, full report written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.designer.test_bot import story_names, worst_confused
from bot.launcher import child_env
from bot.settings import PROJECT_ROOT


def test_worst_confused_pairs_leave_out_hits_and_fallbacks_of_out_of_scope() -> None:
    confusion = {
        "greet": {"greet": 9, "thank": 1},
        "faq": {"faq": 5, "track_order": 3, "nlu_fallback": 1},
        "out_of_scope": {"out_of_scope": 7, "nlu_fallback": 4, "faq": 2},
    }
    assert worst_confused(confusion, top=3) == [
        ("faq", "track_order", 3),
        ("out_of_scope", "faq", 2),
        ("faq", "nlu_fallback", 1),
    ]


@pytest.mark.slow
def test_test_bot_reports_stories_and_nlu_figures(trained_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "results"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "test-bot", "--model", str(trained_model), "--out", str(out)],
        cwd=PROJECT_ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    total = len(story_names(PROJECT_ROOT / "tests" / "stories"))
    assert f"test stories: {total}/{total} passed" in result.stdout
    assert "intent accuracy (in scope)" in result.stdout and "worst-confused" in result.stdout
    report = json.loads((out / "report.json").read_text())
    nlu = report["nlu"]
    for figure in ("in_scope_accuracy", "faq_topic_accuracy", "oos_recall"):
        low, high = nlu["intervals"][figure]
        assert 0.8 <= low <= nlu[figure] <= high <= 1.0
    assert nlu["n_in_scope"] > 400 and nlu["n_out_of_scope"] > 300
    assert "misclassified" not in nlu  # the frozen set's texts stay hidden
    assert all(g != p and n >= 1 for g, p, n in nlu["worst_confused"])
    assert (out / "report.txt").read_text().startswith(f"test stories: {total}/{total}")
    assert (out / "core" / "rasa-test.log").exists()
