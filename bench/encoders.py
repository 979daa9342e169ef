"""Compare NLU encoders on stratified k-fold cross-validation of the training data.

Usage (`make bench-encoders` first installs encoder 2's weights, bench/requirements-encoders.txt):
    .venv/bin/python -m bench.encoders                                  # ~15 min on 2 busy cores
    .venv/bin/python -m bench.encoders --configs sparse,minilm@5 --folds 5 --seed 12
    .venv/bin/python -m bench.encoders --configs all --json /tmp/encoders.json

Configs (comma-separated; `name@S` sets the encoder's `scale` to S, default 5):
    sparse         config.yml's pipeline without any SentenceEncoderFeaturizer
    minilm         sparse + all-MiniLM-L6-v2, mean-pooled        (encoder 1)
    paraphrase-l3  sparse + paraphrase-MiniLM-L3-v2, mean-pooled (encoder 2)
    minilm-dense   all-MiniLM-L6-v2 only: no regex/lexical/count featurizers
Default: sparse,minilm,paraphrase-l3,minilm-dense ("all" is the same).

Only data/nlu is used (never tests/nlu_test or tests/nlu_dev). Every example is predicted
once, by the model of the fold that held it out; the same folds (StratifiedKFold on the
intent, or the faq/<topic> key for FAQ examples, shuffled with --seed) serve every config.
Each fold x config is a real `rasa train nlu` (Python API, no Rasa cache); the held-out
texts are predicted by the trained model's NLU graph in one batch, and the parse time is
`Agent.parse_message` (whole pipeline, one text at a time, as the server does) of --timed
held-out texts per fold, spread evenly, with the configs' models taking turns on each
text (so a busy machine slows them alike; their intents must match the batched ones).
Encoder vectors of training texts are computed once per process and reused across folds
(they do not depend on the fold); held-out texts are always encoded afresh.
Memory is the VmRSS of a fresh process that loaded the fold-1 model and parsed a message.
Install size counts the encoder's weights package folder(s); the shared runtime
(onnxruntime, onnx, tokenizers) is printed once below the table.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIGS = ("sparse", "minilm", "paraphrase-l3", "minilm-dense")
ENCODER_COMPONENT = "bot.rasa_ext.nlu.sentence_encoder.SentenceEncoderFeaturizer"
SPARSE_FEATURIZERS = ("RegexFeaturizer", "LexicalSyntacticFeaturizer", "CountVectorsFeaturizer")
RUNTIME_PACKAGES = ("onnxruntime", "onnx", "tokenizers")
DEFAULT_SCALE = 5.0


@dataclass(frozen=True)
class ConfigSpec:
    """One pipeline variant of the bench."""

    name: str
    encoder: Optional[str]
    scale: float
    sparse: bool = True

    def pipeline(self, base: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """The pipeline: config.yml's, with the encoder after the last tokenizer/featurizer."""
        steps = [dict(s) for s in base if s.get("name") != ENCODER_COMPONENT]
        if not self.sparse:
            steps = [s for s in steps if s.get("name") not in SPARSE_FEATURIZERS]
        if self.encoder:
            at = 1 + max(
                i
                for i, s in enumerate(steps)
                if "Tokenizer" in s["name"] or "Featurizer" in s["name"]
            )
            encoder = {"name": ENCODER_COMPONENT, "encoder": self.encoder, "scale": self.scale}
            steps.insert(at, encoder)
        return steps


def parse_config(text: str) -> ConfigSpec:
    """`minilm@5` -> ConfigSpec(minilm, scale 5)."""
    name, _, scale_text = text.partition("@")
    scale = float(scale_text) if scale_text else DEFAULT_SCALE
    label = text if scale_text else name
    if name == "sparse":
        return ConfigSpec(label, None, 1.0)
    if name.endswith("-dense"):
        return ConfigSpec(label, name[: -len("-dense")], scale, sparse=False)
    return ConfigSpec(label, name, scale)


@dataclass
class Result:
    """Pooled figures of one config over all folds."""

    config: ConfigSpec
    predictions: Dict[int, Any] = field(default_factory=dict)  # example index -> Prediction
    parse_ms: List[float] = field(default_factory=list)
    train_s: List[float] = field(default_factory=list)
    rss_mb: Optional[float] = None
    install_mb: float = 0.0
    scores: Dict[str, Any] = field(default_factory=dict)


def _quiet() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ["RASA_MAX_CACHE_SIZE"] = "0"  # every fold trains from scratch
    logging.getLogger().setLevel(logging.WARNING)
    import warnings

    from bench.nlu_eval import _quiet_rasa_logging

    _quiet_rasa_logging()
    warnings.filterwarnings("ignore")  # sklearn's ConvergenceWarning at max_iter, every fold


def load_data(nlu: Path) -> Any:
    """Rasa TrainingData of the NLU files."""
    from rasa.shared.nlu.training_data.loading import load_data as rasa_load

    return rasa_load(str(nlu))


def examples_of(data: Any) -> List[Any]:
    """bench.nlu_eval Examples of the intent examples (faq/<topic> kept as faq_key)."""
    from bench.nlu_eval import examples_of as eval_examples_of

    return eval_examples_of(data)


def folds(examples: Sequence[Any], k: int, seed: int) -> List[Tuple[List[int], List[int]]]:
    """Stratified k folds (stratum: faq key for FAQ examples, else the intent)."""
    from sklearn.model_selection import StratifiedKFold

    strata = [e.faq_key or e.intent for e in examples]
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return [(list(a), list(b)) for a, b in splitter.split(list(range(len(strata))), strata)]


def write_fold_data(data: Any, keep: Sequence[int], path: Path) -> None:
    """Writes the training examples `keep` plus regexes, lookups and synonyms as YAML."""
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.training_data import TrainingData

    messages = data.intent_examples
    subset = TrainingData(
        training_examples=[messages[i] for i in keep],
        entity_synonyms=data.entity_synonyms,
        regex_features=data.regex_features,
        lookup_tables=data.lookup_tables,
    )
    path.write_text(RasaYAMLWriter().dumps(subset))


def install_training_cache() -> None:
    """Reuse encoder features of a training text across folds (inference is not cached)."""
    import numpy as np
    from rasa.shared.nlu.constants import TEXT
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from bot.rasa_ext.nlu.sentence_encoder import SentenceEncoderFeaturizer, token_spans

    cache: Dict[Tuple[str, str, Tuple[Tuple[int, int], ...]], Tuple[Any, Any]] = {}

    def process_training_data(self: SentenceEncoderFeaturizer, training_data: Any) -> Any:
        messages = [m for m in training_data.training_examples if m.get(TEXT)]
        keys = [(self.config["encoder"], m.get(TEXT), tuple(token_spans(m))) for m in messages]
        missing = list({key: None for key in keys if key not in cache})
        pairs = self.features_for([(text, spans) for _, text, spans in missing])
        for key, (sequence, sentence) in zip(missing, pairs, strict=True):
            cache[key] = (sequence / self.scale, sentence / self.scale)
        for key, message in zip(keys, messages, strict=True):
            sequence, sentence = cache[key]
            self.add_features_to_message(
                (sequence * self.scale).astype(np.float32),
                (sentence * self.scale).astype(np.float32),
                TEXT,
                message,
            )
        return training_data

    # Rasa's graph validation reads these hints; give it real classes, not strings.
    process_training_data.__annotations__ = {
        "training_data": TrainingData,
        "return": TrainingData,
    }
    SentenceEncoderFeaturizer.process_training_data = process_training_data  # type: ignore


def train(config: ConfigSpec, base: Dict[str, Any], nlu: Path, out: Path) -> Tuple[Path, float]:
    """Trains one NLU model in-process; returns (model path, seconds)."""
    import yaml
    from rasa.model_training import train_nlu

    config_path = out / f"{config.name}.yml"
    config_path.write_text(
        yaml.safe_dump({**base, "pipeline": config.pipeline(base["pipeline"])}, sort_keys=False)
    )
    started = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):
        model = train_nlu(str(config_path), str(nlu), str(out), fixed_model_name=config.name)
    seconds = time.perf_counter() - started
    if not model:
        raise RuntimeError(f"training {config.name} failed")
    return Path(model), seconds


def prediction_of(parsed: Dict[str, Any]) -> Any:
    """bench.nlu_eval Prediction of parse data."""
    from bench.nlu_eval import FALLBACK_INTENT, FAQ_INTENT, Prediction

    intent = parsed.get("intent") or {}
    selected = (parsed.get("response_selector") or {}).get(FAQ_INTENT) or {}
    return Prediction(
        intent=intent.get("name") or "",
        confidence=float(intent.get("confidence") or 0.0),
        faq_key=(selected.get("response") or {}).get("intent_response_key"),
        ranking=tuple(
            (r["name"], float(r["confidence"]))
            for r in parsed.get("intent_ranking") or []
            if r.get("name") != FALLBACK_INTENT
        ),
    )


def predict_batch(agent: Any, texts: Sequence[str]) -> List[Any]:
    """Predictions for many texts in one run of the model's NLU graph (same components)."""
    from rasa.core.channels.channel import UserMessage
    from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
    from rasa.shared.core.trackers import DialogueStateTracker

    processor = agent.processor
    target = processor.model_metadata.nlu_target
    results = processor.graph_runner.run(
        inputs={
            PLACEHOLDER_MESSAGE: [UserMessage(text) for text in texts],
            PLACEHOLDER_TRACKER: DialogueStateTracker.from_events("bench", []),
        },
        targets=[target],
    )
    return [prediction_of(m.as_dict(only_output_properties=True)) for m in results[target]]


async def evaluate_fold(
    models: Dict[str, Path], texts: Sequence[str], timed: int
) -> Dict[str, Tuple[List[Any], List[float]]]:
    """Per model: predictions of all texts, and parse ms of `timed` texts (evenly spread).

    All models of the fold are loaded together and timed in turns on the same texts
    (`Agent.parse_message`, one text at a time, as the server does), so that the load of
    a shared machine falls on every config alike. The timed texts' intents must equal the
    batched predictions.
    """
    from rasa.core.agent import Agent

    with contextlib.redirect_stdout(sys.stderr):
        agents = {name: Agent.load(str(model)) for name, model in models.items()}
    for agent in agents.values():
        await agent.parse_message("hello")  # warm-up
    step = max(1, len(texts) // max(1, timed))
    sample = list(range(0, len(texts), step))[:timed]
    times: Dict[str, List[float]] = {name: [] for name in agents}
    single: Dict[str, Dict[int, str]] = {name: {} for name in agents}
    for i in sample:
        for name, agent in agents.items():
            started = time.perf_counter()
            parsed = await agent.parse_message(texts[i])
            times[name].append((time.perf_counter() - started) * 1000)
            single[name][i] = prediction_of(parsed).intent
    out = {}
    for name, agent in agents.items():
        predictions = predict_batch(agent, texts)
        differ = [texts[i] for i, got in single[name].items() if predictions[i].intent != got]
        if differ:
            raise RuntimeError(f"{name}: batched and single predictions differ: {differ[:5]}")
        out[name] = (predictions, times[name])
    return out


def rss_of(model: Path) -> float:
    """VmRSS (MB) of a fresh process that loaded the model and parsed one message."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    command = [sys.executable, "-m", "bench.encoders", "--rss-of", str(model)]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    lines = [line for line in result.stdout.splitlines() if line.startswith("RSS_MB ")]
    if result.returncode != 0 or not lines:
        raise RuntimeError(f"--rss-of failed:\n{result.stderr[-3000:]}")
    return float(lines[-1].split()[1])


def _print_rss(model: Path) -> None:
    _quiet()
    sys.path.insert(0, str(ROOT))
    asyncio.run(evaluate_fold({"model": model}, ["where is my order"], 1))
    status = Path("/proc/self/status").read_text()
    rss_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
    print(f"RSS_MB {rss_kb / 1024:.1f}")


def folder_mb(path: Path) -> float:
    """Size of the files under a folder, in MB."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def encoder_install_mb(encoder: Optional[str]) -> float:
    """On-disk size of an encoder's weights package folder(s)."""
    if not encoder:
        return 0.0
    from bot.rasa_ext.nlu.encoders import ENCODERS, find_package_dir

    spec = ENCODERS[encoder]
    dirs = {find_package_dir(spec.package_dir), find_package_dir(spec.tokenizer_package_dir)}
    return sum(folder_mb(d) for d in dirs)


def runtime_install_mb() -> float:
    """On-disk size of the encoders' shared runtime packages."""
    import importlib.util

    total = 0.0
    for name in RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec and spec.origin:
            total += folder_mb(Path(spec.origin).parent)
    return total


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q / 100 * len(ordered))) - 1))]


def run(configs: Sequence[ConfigSpec], k: int, seed: int, nlu: Path, timed: int) -> List[Result]:
    """Cross-validates every config on the same folds."""
    import yaml

    from bench.nlu_eval import score

    base = yaml.safe_load((ROOT / "config.yml").read_text())
    base = {key: base[key] for key in ("recipe", "language", "assistant_id", "pipeline")}
    data = load_data(nlu)
    examples = examples_of(data)
    splits = folds(examples, k, seed)
    install_training_cache()
    results = [Result(c, install_mb=encoder_install_mb(c.encoder)) for c in configs]
    first_models: Dict[str, Path] = {}
    with tempfile.TemporaryDirectory(prefix="bench-encoders-") as tmp:
        for fold, (train_idx, test_idx) in enumerate(splits, start=1):
            fold_dir = Path(tmp) / f"fold{fold}"
            fold_dir.mkdir()
            write_fold_data(data, train_idx, fold_dir / "nlu.yml")
            texts = [examples[i].text for i in test_idx]
            models = {}
            for result in results:
                model, seconds = train(result.config, base, fold_dir / "nlu.yml", fold_dir)
                result.train_s.append(seconds)
                models[result.config.name] = model
            evaluated = asyncio.run(evaluate_fold(models, texts, timed))
            for result in results:
                predictions, times = evaluated[result.config.name]
                result.parse_ms += times
                result.predictions.update(zip(test_idx, predictions, strict=True))
                if fold == 1:
                    keep = Path(tmp) / f"{result.config.name}.tar.gz"
                    models[result.config.name].rename(keep)
                    first_models[result.config.name] = keep
                print(
                    f"fold {fold}/{k} {result.config.name:<16} train {result.train_s[-1]:5.1f}s "
                    f"parse {statistics.mean(times):5.1f} ms/msg",
                    file=sys.stderr,
                    flush=True,
                )
        for result in results:
            ordered = [result.predictions[i] for i in range(len(examples))]
            result.scores = score(examples, ordered)
            result.rss_mb = rss_of(first_models[result.config.name])
    return results


COLUMNS = (
    ("config", "{:<16}"),
    ("in-scope acc", "{:>12.3f}"),
    ("OOS recall", "{:>10.3f}"),
    ("OOS->action", "{:>11.3f}"),
    ("FAQ topic acc", "{:>13.3f}"),
    ("parse mean ms", "{:>13.1f}"),
    ("parse p95 ms", "{:>12.1f}"),
    ("RSS MB", "{:>7.0f}"),
    ("encoder MB", "{:>10.1f}"),
    ("train s/fold", "{:>12.1f}"),
)


def row(result: Result) -> List[Any]:
    """Table cells of a result."""
    s = result.scores
    return [
        result.config.name,
        s["in_scope_accuracy"],
        s["oos_recall"],
        s["oos_to_action_share"],
        s["faq_topic_accuracy"],
        statistics.mean(result.parse_ms),
        percentile(result.parse_ms, 95),
        result.rss_mb or 0.0,
        result.install_mb,
        statistics.mean(result.train_s),
    ]


def table(results: Sequence[Result]) -> str:
    """Markdown table of the results."""
    header = "| " + " | ".join(name for name, _ in COLUMNS) + " |"
    rule = "|" + "|".join("-" * (len(name) + 2) for name, _ in COLUMNS) + "|"
    lines = [header, rule]
    for result in results:
        cells = [fmt.format(v).strip() for (_, fmt), v in zip(COLUMNS, row(result), strict=True)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--configs", default="all", help="comma-separated, e.g. sparse,minilm@5")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--nlu", type=Path, default=ROOT / "data" / "nlu")
    parser.add_argument(
        "--timed", type=int, default=200, help="held-out texts timed one by one per fold"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--rss-of", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rss_of:
        _print_rss(args.rss_of)
        return 0
    names = DEFAULT_CONFIGS if args.configs == "all" else args.configs.split(",")
    configs = [parse_config(n.strip()) for n in names if n.strip()]
    _quiet()
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    started = time.perf_counter()
    results = run(configs, args.folds, args.seed, args.nlu, args.timed)
    n = results[0].scores
    print(
        f"\nNLU encoders, {args.folds}-fold stratified CV (seed {args.seed}) of {args.nlu}: "
        f"{n['n_in_scope']} in-scope ({n['n_faq']} FAQ), {n['n_out_of_scope']} out-of-scope\n"
    )
    print(table(results))
    print(
        f"\nshared encoder runtime (onnxruntime, onnx, tokenizers): {runtime_install_mb():.0f} MB;"
        f" bench took {time.perf_counter() - started:.0f} s"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    r.config.name: {
                        **dict(zip([c for c, _ in COLUMNS], row(r), strict=True)),
                        "intervals": r.scores["intervals"],
                    }
                    for r in results
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
