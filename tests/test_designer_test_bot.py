"""`make test-bot` (python -m bot test-bot): short report printed, full report written."""

from __future__ import annotations

import json
import shutil
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


def run_test_bot(model: Path, root: Path, out: Path) -> subprocess.CompletedProcess:
    """`python -m bot test-bot` run from the project at `root`."""
    return subprocess.run(
        [sys.executable, "-m", "bot", "test-bot", "--model", str(model), "--out", str(out)],
        cwd=root,
        env=child_env({"PYTHONPATH": str(root)}),
        capture_output=True,
        text=True,
        timeout=1200,
    )


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """The project with its own code, test stories and frozen set (the command reads those
    next to its code); the rest linked."""
    root = tmp_path / "project"
    skip = shutil.ignore_patterns("__pycache__")
    for name in ("bot", "bench", "tests/stories", "tests/nlu_test"):
        shutil.copytree(PROJECT_ROOT / name, root / name, ignore=skip)
    for name in ("actions", "channels", "data", "config.yml", "domain.yml", "endpoints.yml"):
        (root / name).symlink_to(PROJECT_ROOT / name)
    return root


@pytest.mark.slow
def test_a_failing_test_story_is_named_and_fails_the_command(
    trained_model: Path, copy: Path, tmp_path: Path
) -> None:
    stories = copy / "tests" / "stories" / "test_stories.yml"
    text = stories.read_text()
    name = "order keyword"  # ORDER B2001 -> action_track_order, now expected to say goodbye
    at = text.index(f"  - story: {name}\n")
    step = text.index("      - action: action_track_order\n", at)
    wrong = "      - action: utter_goodbye\n"
    stories.write_text(text[:step] + wrong + text[step:].split("\n", 1)[1])
    result = run_test_bot(trained_model, copy, tmp_path / "results")
    assert result.returncode == 1, result.stdout + result.stderr[-3000:]
    total = len(story_names(stories))
    assert f"test stories: {total - 1}/{total} passed" in result.stdout, result.stdout
    assert f"  failed: {name}\n" in result.stdout
    assert "NLU targets: all met" in result.stdout  # the story alone failed it


@pytest.mark.slow
def test_a_missed_nlu_target_is_named_and_fails_the_command(
    trained_model: Path, copy: Path, tmp_path: Path
) -> None:
    # the frozen set's greetings and thanks swapped: the model "misses" both
    frozen = copy / "tests" / "nlu_test" / "frozen_test.yml"
    text = frozen.read_text()
    assert "  - intent: greet\n" in text and "  - intent: thank\n" in text
    text = text.replace("  - intent: greet\n", "  - intent: GREET\n")
    text = text.replace("  - intent: thank\n", "  - intent: greet\n")
    frozen.write_text(text.replace("  - intent: GREET\n", "  - intent: thank\n"))
    result = run_test_bot(trained_model, copy, tmp_path / "results")
    assert result.returncode == 1, result.stdout + result.stderr[-3000:]
    total = len(story_names(copy / "tests" / "stories"))
    assert f"test stories: {total}/{total} passed" in result.stdout, result.stdout
    [missed] = [line for line in result.stdout.splitlines() if line.startswith("NLU targets:")]
    assert missed.startswith("NLU targets: MISSED in_scope_accuracy 0."), missed
    assert missed.split("; ")[0].endswith(" < 0.92"), missed
    assert "  greet -> thank: " in result.stdout and "  thank -> greet: " in result.stdout


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
