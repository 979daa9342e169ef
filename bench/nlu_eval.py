"""NLU evaluation on the frozen test set or the development set, with 95% intervals.

Usage:
    .venv/bin/python -m bench.nlu_eval                       # frozen test set, clean + SMS-style
    .venv/bin/python -m bench.nlu_eval --set dev             # development set (tune on this one)
    .venv/bin/python -m bench.nlu_eval --model m.tar.gz --json --check

Two sets, two jobs:
- tests/nlu_test/frozen_test.yml: the frozen test set, written before the training data was
  broadened and never tuned on (its sha256 is pinned in tests/test_nlu_frozen.py). Report it.
- tests/nlu_dev/dev.yml: the development set; look at its failures, add *different*
  phrasings of the same ideas to data/nlu, tune on it.

The figures (each with a Wilson 95% interval):
- in_scope_accuracy: share of in-scope examples whose predicted intent is the gold intent
  (a `faq/<key>` example counts as correct when the intent is `faq`; nlu_fallback is wrong);
- faq_topic_accuracy: share of faq examples answered with the right topic (intent `faq`
  and the response selector's key is the gold key: what the texter actually gets);
- oos_recall: share of out-of-scope examples predicted out_of_scope or nlu_fallback;
- oos_to_action_share: share of out-of-scope examples predicted as track_order, book_room
  or human_handoff (intents that start a flow or page a person).
The SMS-style copy (bench/sms_style.py: lowercase, no punctuation, "u", "pls", "4") is
scored too; its figures must stay within SMS_STYLE_MAX_DROP of the clean ones.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import logging
import math
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
TEST_SET = ROOT / "tests" / "nlu_test" / "frozen_test.yml"
DEV_SET = ROOT / "tests" / "nlu_dev" / "dev.yml"
SETS = {"test": TEST_SET, "dev": DEV_SET}
DEFAULT_HELDOUT = TEST_SET
DEFAULT_CONFIG = ROOT / "config.yml"
DEFAULT_NLU = ROOT / "data" / "nlu"
DEFAULT_MODEL_DIR = ROOT / "models" / "nlu"

OOS_INTENT = "out_of_scope"
FALLBACK_INTENT = "nlu_fallback"
FAQ_INTENT = "faq"
ACTION_INTENTS = ("track_order", "book_room", "human_handoff")

# Point estimates on the frozen test set.
TARGETS = {
    "in_scope_accuracy": 0.92,  # at least
    "faq_topic_accuracy": 0.90,  # at least
    "oos_recall": 0.88,  # at least
    "oos_to_action_share": 0.02,  # at most
}
AT_LEAST = ("in_scope_accuracy", "faq_topic_accuracy", "oos_recall")
SMS_STYLE_MAX_DROP = 0.03  # each figure of the SMS-style copy within this of the clean one


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    faq_key: Optional[str] = None  # e.g. "faq/wifi" for retrieval-intent examples


@dataclass
class Prediction:
    intent: str
    confidence: float
    faq_key: Optional[str]
    # classifier ranking without nlu_fallback (for threshold sweeps); empty for keywords
    ranking: Tuple[Tuple[str, float], ...] = ()


def _ensure_project_on_path() -> None:
    """Custom components (bot.rasa_ext.nlu.*) are referenced by module path in the model."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def examples_of(data: Any) -> List[Example]:
    """Examples of Rasa TrainingData's intent examples (faq/<key> kept as faq_key)."""
    examples = []
    for message in data.intent_examples:
        intent = message.get("intent")
        key = message.get("intent_response_key")
        examples.append(
            Example(
                text=message.get("text"),
                intent=intent,
                faq_key=key if key and key != intent else None,
            )
        )
    return examples


def load_examples(path: Path = DEFAULT_HELDOUT) -> List[Example]:
    """Examples of a Rasa NLU YAML file."""
    from rasa.shared.nlu.training_data.loading import load_data

    return examples_of(load_data(str(path)))


def training_fingerprint(config: Path = DEFAULT_CONFIG, nlu: Path = DEFAULT_NLU) -> str:
    """Hash of everything an NLU model depends on: config, NLU data, custom components."""
    import rasa

    digest = hashlib.sha256(rasa.__version__.encode())
    files: List[Path] = [config]
    files += sorted(nlu.rglob("*.yml")) if nlu.is_dir() else [nlu]
    files += sorted((ROOT / "bot" / "rasa_ext" / "nlu").glob("*.py"))
    files += [ROOT / "bot" / "text" / "orders_format.py"]
    for path in files:
        if path.exists():
            digest.update(
                str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path).encode()
            )
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def train_nlu_model(
    out_dir: Path,
    config: Path = DEFAULT_CONFIG,
    nlu: Path = DEFAULT_NLU,
    model_name: str = "nlu",
) -> Tuple[Path, float]:
    """Train an NLU-only model with the rasa CLI; returns (model path, seconds)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    command = [
        sys.executable, "-m", "rasa", "train", "nlu",
        "--config", str(config),
        "--nlu", str(nlu),
        "--out", str(out_dir),
        "--fixed-model-name", model_name,
    ]  # fmt: skip
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    model = out_dir / f"{model_name}.tar.gz"
    if result.returncode != 0 or not model.exists():
        raise RuntimeError(
            f"rasa train nlu failed (exit {result.returncode}):\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    return model, seconds


def cached_model(
    model_dir: Path = DEFAULT_MODEL_DIR,
    config: Path = DEFAULT_CONFIG,
    nlu: Path = DEFAULT_NLU,
    retrain: bool = False,
) -> Tuple[Path, Optional[float]]:
    """The model for the current config + data, trained only when they changed."""
    name = f"nlu-{training_fingerprint(config, nlu)}"
    model = model_dir / f"{name}.tar.gz"
    if model.exists() and not retrain:
        return model, None
    model, seconds = train_nlu_model(model_dir, config, nlu, name)
    for stale in model_dir.glob("nlu-*.tar.gz"):  # models of older data/config
        if stale != model and len(stale.name) == len(model.name):
            stale.unlink()
    return model, seconds


def _quiet_rasa_logging() -> None:
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)


async def predict_async(model_path: Path, texts: Sequence[str]) -> List[Prediction]:
    """Parse each text with the full NLU pipeline of a trained model."""
    _ensure_project_on_path()
    with contextlib.redirect_stdout(sys.stderr):
        _quiet_rasa_logging()
        from rasa.core.agent import Agent

        agent = Agent.load(str(model_path))
        predictions = []
        for text in texts:
            parsed = await agent.parse_message(text)
            intent = parsed.get("intent") or {}
            selected = (parsed.get("response_selector") or {}).get(FAQ_INTENT) or {}
            key = (selected.get("response") or {}).get("intent_response_key")
            ranking = tuple(
                (r["name"], float(r["confidence"]))
                for r in parsed.get("intent_ranking") or []
                if r.get("name") != FALLBACK_INTENT
            )
            predictions.append(
                Prediction(
                    intent=intent.get("name") or "",
                    confidence=float(intent.get("confidence") or 0.0),
                    faq_key=key,
                    ranking=ranking,
                )
            )
    return predictions


def predict(model_path: Path, texts: Sequence[str]) -> List[Prediction]:
    """Synchronous wrapper of predict_async (not for use inside a running loop)."""
    return asyncio.run(predict_async(model_path, texts))


def _ratio(numerator: int, denominator: int) -> float:
    return round(numerator / denominator, 4) if denominator else 0.0


def score(examples: Sequence[Example], predictions: Sequence[Prediction]) -> Dict[str, Any]:
    """The evaluation figures for gold examples and their predictions."""
    assert len(examples) == len(predictions)
    in_scope = [
        (e, p) for e, p in zip(examples, predictions, strict=True) if e.intent != OOS_INTENT
    ]
    oos = [(e, p) for e, p in zip(examples, predictions, strict=True) if e.intent == OOS_INTENT]
    faq = [(e, p) for e, p in in_scope if e.intent == FAQ_INTENT and e.faq_key]

    confusion: Dict[str, Counter] = defaultdict(Counter)
    for e, p in zip(examples, predictions, strict=True):
        confusion[e.intent][p.intent] += 1

    per_intent = {
        intent: {
            "n": sum(row.values()),
            "recall": _ratio(
                row[intent] + (row[FALLBACK_INTENT] if intent == OOS_INTENT else 0),
                sum(row.values()),
            ),
        }
        for intent, row in sorted(confusion.items())
    }

    misclassified = [
        {
            "gold": e.intent,
            "predicted": p.intent,
            "confidence": round(p.confidence, 3),
            "text": e.text,
        }
        for e, p in zip(examples, predictions, strict=True)
        if not (p.intent == e.intent or (e.intent == OOS_INTENT and p.intent == FALLBACK_INTENT))
    ]
    faq_key_errors = [
        {"gold": e.faq_key, "predicted": p.faq_key, "text": e.text}
        for e, p in faq
        if p.faq_key != e.faq_key
    ]

    counts = {
        "in_scope_accuracy": (sum(p.intent == e.intent for e, p in in_scope), len(in_scope)),
        "in_scope_fallback_rate": (
            sum(p.intent == FALLBACK_INTENT for _, p in in_scope),
            len(in_scope),
        ),
        "faq_subintent_accuracy": (sum(p.faq_key == e.faq_key for e, p in faq), len(faq)),
        "faq_topic_accuracy": (
            sum(p.intent == FAQ_INTENT and p.faq_key == e.faq_key for e, p in faq),
            len(faq),
        ),
        "oos_recall": (sum(p.intent in (OOS_INTENT, FALLBACK_INTENT) for _, p in oos), len(oos)),
        "oos_to_action_share": (sum(p.intent in ACTION_INTENTS for _, p in oos), len(oos)),
    }
    return {
        "n_in_scope": len(in_scope),
        "n_out_of_scope": len(oos),
        "n_faq": len(faq),
        **{name: _ratio(k, n) for name, (k, n) in counts.items()},
        "intervals": {name: wilson(k, n) for name, (k, n) in counts.items()},
        "per_intent": per_intent,
        "confusion": {gold: dict(row) for gold, row in sorted(confusion.items())},
        "misclassified": misclassified,
        "faq_key_errors": faq_key_errors,
    }


def wilson(successes: int, n: int, z: float = 1.96) -> Tuple[float, float]:
    """Wilson score interval (95% by default) of a proportion."""
    if n == 0:
        return (0.0, 0.0)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4))


def refallback(
    predictions: Sequence[Prediction], threshold: float, ambiguity: float = 0.05
) -> List[Prediction]:
    """Predictions as a FallbackClassifier with other settings would have left them."""
    out = []
    for p in predictions:
        if not p.ranking:
            out.append(p)
            continue
        (top, confidence), second = p.ranking[0], (p.ranking[1][1] if len(p.ranking) > 1 else 0.0)
        fallback = confidence < threshold or confidence - second < ambiguity
        out.append(
            Prediction(
                intent=FALLBACK_INTENT if fallback else top,
                confidence=threshold if fallback else confidence,
                faq_key=p.faq_key,
                ranking=p.ranking,
            )
        )
    return out


def threshold_sweep(
    examples: Sequence[Example],
    predictions: Sequence[Prediction],
    thresholds: Iterable[float] = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6),
    ambiguity: float = 0.05,
) -> List[Dict[str, float]]:
    """The headline figures for other FallbackClassifier thresholds (same model)."""
    rows = []
    for threshold in thresholds:
        report = score(examples, refallback(predictions, threshold, ambiguity))
        rows.append(
            {
                "threshold": threshold,
                "ambiguity_threshold": ambiguity,
                **{
                    k: report[k]
                    for k in (
                        "in_scope_accuracy",
                        "in_scope_fallback_rate",
                        "oos_recall",
                        "oos_to_action_share",
                    )
                },
            }
        )
    return rows


def failed_targets(report: Dict[str, Any]) -> List[str]:
    """Human-readable list of the targets a report misses (empty when all hold)."""
    failures = []
    for name, target in TARGETS.items():
        value = report[name]
        if (value < target) if name in AT_LEAST else (value > target):
            sign = "<" if name in AT_LEAST else ">"
            failures.append(f"{name} {value} {sign} {target}")
    sms = report.get("sms_style")
    if sms:
        for name in TARGETS:
            drop = report[name] - sms[name] if name in AT_LEAST else sms[name] - report[name]
            if drop > SMS_STYLE_MAX_DROP:
                failures.append(
                    f"SMS-style {name} {sms[name]} vs {report[name]} clean (> {SMS_STYLE_MAX_DROP})"
                )
    return failures


async def evaluate_async(
    model_path: Path,
    heldout: Path = DEFAULT_HELDOUT,
    sweep: bool = False,
    sms: bool = True,
) -> Dict[str, Any]:
    """Parse every example (and its SMS-style copy) with the model and score them."""
    from bench.sms_style import sms_style

    examples = load_examples(heldout)
    texts = [e.text for e in examples]
    predictions = await predict_async(model_path, texts)
    report = score(examples, predictions)
    report["model"] = str(model_path)
    report["set"] = str(heldout.relative_to(ROOT) if heldout.is_relative_to(ROOT) else heldout)
    if sms:
        styled = [sms_style(text) for text in texts]
        report["sms_style"] = score(examples, await predict_async(model_path, styled))
    if sweep:
        report["threshold_sweep"] = threshold_sweep(examples, predictions)
    return report


def evaluate(
    model_path: Path, heldout: Path = DEFAULT_HELDOUT, sweep: bool = False, sms: bool = True
) -> Dict[str, Any]:
    """Synchronous evaluate (call from sync code / tests without a running loop)."""
    return asyncio.run(evaluate_async(model_path, heldout, sweep, sms))


HEADLINES = (
    ("in_scope_accuracy", "in-scope intent accuracy"),
    ("in_scope_fallback_rate", "  in-scope -> nlu_fallback"),
    ("faq_topic_accuracy", "faq topic accuracy"),
    ("faq_subintent_accuracy", "  faq key (selector alone)"),
    ("oos_recall", "out-of-scope recall"),
    ("oos_to_action_share", "OOS -> " + "/".join(ACTION_INTENTS)),
)


def _headline_rows(report: Dict[str, Any]) -> List[str]:
    sms = report.get("sms_style")
    rows = [f"{'':<44} {'clean [95% CI]':<24} {'SMS-style [95% CI]' if sms else ''}"]
    for name, label in HEADLINES:
        low, high = report["intervals"][name]
        cell = f"{report[name]:.3f} [{low:.3f}, {high:.3f}]"
        if sms:
            s_low, s_high = sms["intervals"][name]
            cell = f"{cell:<24} {sms[name]:.3f} [{s_low:.3f}, {s_high:.3f}]"
        target = TARGETS.get(name)
        if target is not None:
            cell += f"   target {'>=' if name in AT_LEAST else '<='} {target}"
        rows.append(f"{label:<44} {cell}")
    return rows


def format_report(report: Dict[str, Any], show_errors: bool = True) -> str:
    """The report as text: headline figures, per-intent confusion, misclassified texts."""
    lines = [
        f"model: {report.get('model')}",
        f"set: {report.get('set')}: {report['n_in_scope']} in-scope ({report['n_faq']} faq), "
        f"{report['n_out_of_scope']} out-of-scope",
        "",
        *_headline_rows(report),
        "",
        "per-intent recall and confusion (gold -> predicted counts):",
    ]
    for gold, row in report["confusion"].items():
        stats = report["per_intent"][gold]
        others = ", ".join(
            f"{k}:{v}" for k, v in sorted(row.items(), key=lambda kv: -kv[1]) if k != gold
        )
        lines.append(f"  {gold:<16} n={stats['n']:<4} recall={stats['recall']:.2f}  {others}")
    if show_errors:
        lines += ["", f"misclassified ({len(report['misclassified'])}):"]
        for err in sorted(report["misclassified"], key=lambda e: (e["gold"], e["predicted"])):
            gold, predicted = err["gold"], err["predicted"]
            lines.append(f"  {gold:<15} -> {predicted:<15} {err['confidence']:.2f}  {err['text']}")
        lines += ["", f"faq key errors ({len(report['faq_key_errors'])}):"]
        for err in report["faq_key_errors"]:
            lines.append(f"  {err['gold']:<26} -> {str(err['predicted']):<26} {err['text']}")
    if report.get("threshold_sweep"):
        lines += ["", "FallbackClassifier threshold sweep (same model, re-applied offline):"]
        lines.append("  threshold  in_scope_acc  in_scope_fallback  oos_recall  oos_to_action")
        for row in report["threshold_sweep"]:
            lines.append(
                f"  {row['threshold']:<9.2f}  {row['in_scope_accuracy']:<12.3f}  "
                f"{row['in_scope_fallback_rate']:<17.3f}  {row['oos_recall']:<10.3f}  "
                f"{row['oos_to_action_share']:.3f}"
            )
    failures = failed_targets(report)
    lines += ["", "targets: " + ("ALL MET" if not failures else "MISSED: " + "; ".join(failures))]
    return "\n".join(lines)


def main(argv: Optional[Iterable[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, help="trained model archive (skips training)")
    parser.add_argument(
        "--set", choices=sorted(SETS), default="test", help="frozen test set or dev set"
    )
    parser.add_argument("--file", type=Path, help="another NLU YAML file to evaluate on")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--nlu", type=Path, default=DEFAULT_NLU)
    parser.add_argument(
        "--model-dir",
        type=Path,
        default=DEFAULT_MODEL_DIR,
        help="where trained models are cached (default models/nlu)",
    )
    parser.add_argument(
        "--retrain", action="store_true", help="train even if a cached model exists"
    )
    parser.add_argument("--no-sms-style", action="store_true", help="clean texts only")
    parser.add_argument(
        "--show-texts",
        action="store_true",
        help="list misclassified texts of the frozen test set too (shown for --set dev)",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument(
        "--sweep",
        action="store_true",
        help="also show the figures for other FallbackClassifier thresholds",
    )
    args = parser.parse_args(list(argv) if argv is not None else None)

    train_seconds = None
    if args.model:
        model = args.model
    else:
        model, train_seconds = cached_model(args.model_dir, args.config, args.nlu, args.retrain)
    evaluation_set = args.file or SETS[args.set]
    report = evaluate(model, evaluation_set, sweep=args.sweep, sms=not args.no_sms_style)
    report["train_seconds"] = round(train_seconds, 1) if train_seconds is not None else None

    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        if train_seconds is not None:
            print(f"trained NLU model in {train_seconds:.1f}s")
        show = args.show_texts or evaluation_set != TEST_SET
        print(format_report(report, show_errors=show))
    return 1 if args.check and failed_targets(report) else 0


if __name__ == "__main__":
    sys.exit(main())
