"""`make test-bot`: the test stories (`rasa test core`) and the NLU figures on the frozen set.

Prints a short report (stories passed, intent accuracy with its 95% interval, out-of-scope
recall, the worst-confused intent pairs) and writes the full one under results/test-bot/:
report.json, report.txt and Rasa's own story results (core/). The frozen set's misclassified
texts stay hidden (counts only), as for bench/nlu_eval.py: it is never tuned on.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Tuple

import yaml

from bot.settings import PROJECT_ROOT

TEST_STORIES = PROJECT_ROOT / "tests" / "stories"
HIDDEN = ("misclassified", "faq_key_errors")


def story_names(path: Path) -> List[str]:
    """Names of the stories of a Rasa YAML stories file (or folder)."""
    files = sorted(path.rglob("*.yml")) if path.is_dir() else [path]
    names: List[str] = []
    for file in files:
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        names += [s.get("story", "") for s in data.get("stories") or []]
    return names


def run_stories(model: Path, out: Path) -> Dict[str, Any]:
    """`rasa test core` on the test stories; which failed."""
    out.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "rasa", "test", "core", "--stories", str(TEST_STORIES),
        "--model", str(model), "--out", str(out),
    ]  # fmt: skip
    result = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True)
    (out / "rasa-test.log").write_text(result.stdout + result.stderr)
    failed_file = out / "failed_test_stories.yml"
    failed = story_names(failed_file) if failed_file.exists() else []
    total = len(story_names(TEST_STORIES))
    return {
        "exit_code": result.returncode,
        "stories": total,
        "failed": [name.split(" (")[0] for name in failed],
        "passed": total - len(failed),
    }


def worst_confused(
    confusion: Dict[str, Dict[str, int]], top: int = 5
) -> List[Tuple[str, str, int]]:
    """(gold, predicted, count) of the most frequent mistakes (out of scope as fallback is fine)."""
    pairs = [
        (gold, predicted, count)
        for gold, row in confusion.items()
        for predicted, count in row.items()
        if predicted != gold and not (gold == "out_of_scope" and predicted == "nlu_fallback")
    ]
    return sorted(pairs, key=lambda p: (-p[2], p[0], p[1]))[:top]


def nlu_figures(model: Path) -> Dict[str, Any]:
    """bench/nlu_eval.py's figures on the frozen test set, the hidden texts left out."""
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))
    from bench.nlu_eval import TEST_SET, evaluate_async, failed_targets

    report = asyncio.run(evaluate_async(model, TEST_SET, sms=False))
    figures = {k: v for k, v in report.items() if k not in HIDDEN}
    figures["worst_confused"] = worst_confused(report["confusion"])
    figures["missed_targets"] = failed_targets(report)
    return figures


def short_report(stories: Dict[str, Any], nlu: Dict[str, Any]) -> str:
    """A few lines: what a designer looks at after a change."""
    lines = [f"test stories: {stories['passed']}/{stories['stories']} passed"]
    lines += [f"  failed: {name}" for name in stories["failed"]]
    for key, label in (
        ("in_scope_accuracy", "intent accuracy (in scope)"),
        ("faq_topic_accuracy", "FAQ topic accuracy"),
        ("oos_recall", "out-of-scope recall"),
    ):
        low, high = nlu["intervals"][key]
        lines.append(f"{label:<28} {nlu[key]:.3f}  95% CI [{low:.3f}, {high:.3f}]")
    lines.append("worst-confused (gold -> predicted: count):")
    lines += [f"  {g} -> {p}: {n}" for g, p, n in nlu["worst_confused"]] or ["  none"]
    missed = nlu["missed_targets"]
    lines.append("NLU targets: " + ("all met" if not missed else "MISSED " + "; ".join(missed)))
    return "\n".join(lines)


def run_test_bot(model: Path, out: Path) -> int:
    """Run both, print the short report, write the full one; 1 if anything failed."""
    stories = run_stories(model, out / "core")
    nlu = nlu_figures(model)
    text = short_report(stories, nlu)
    out.mkdir(parents=True, exist_ok=True)
    report = {"model": str(model), "stories": stories, "nlu": nlu}
    (out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    (out / "report.txt").write_text(text + "\n")
    print(text)
    print(f"full report: {out}")
    failed = stories["exit_code"] != 0 or stories["failed"] or nlu["missed_targets"]
    return 1 if failed else 0
