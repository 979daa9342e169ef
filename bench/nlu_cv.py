"""Stratified k-fold cross-validation of the NLU pipeline on its own training data.

Each fold trains an NLU-only model (rasa's Python API, the pipeline of the given config)
on the other folds into a temporary directory and parses its held-out examples; what is
kept per example is the pipeline's final intent ranking without nlu_fallback. Used by
bench/tune_band.py. Never reads tests/nlu_test/.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

OOS = "out_of_scope"
FALLBACK = "nlu_fallback"
HANDOFF = "human_handoff"


@dataclass(frozen=True)
class Scored:
    """One parsed example: gold intent and the pipeline's top candidates (no nlu_fallback)."""

    text: str
    gold: str
    top: str
    confidence: float
    second: float
    vetoed: bool  # PersonRequest dropped a handoff guess: a fallback whatever the threshold


def load_training_data(nlu: Path) -> Any:
    """All NLU training data under `nlu` (examples, lookups, regexes, synonyms)."""
    from rasa.shared.nlu.training_data.loading import load_data

    return load_data(str(nlu))


def stratified_folds(labels: Sequence[str], folds: int, seed: int) -> List[List[int]]:
    """Held-out example indices of each fold, stratified by label, fixed seed."""
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return [list(test) for _, test in splitter.split(list(labels), list(labels))]


def write_training_data(data: Any, keep: Sequence[Any], path: Path) -> None:
    """The training data with only the `keep` examples, as Rasa YAML."""
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.training_data import TrainingData

    fold = TrainingData(
        training_examples=list(keep),
        entity_synonyms=data.entity_synonyms,
        regex_features=data.regex_features,
        lookup_tables=data.lookup_tables,
        responses=data.responses,
    )
    RasaYAMLWriter().dump(path, fold)


def train_model(config: Path, nlu: Path, out: Path, domain: Path) -> Path:
    """Train an NLU-only model with rasa's Python API; its chatter goes to stderr."""
    from rasa.model_training import train_nlu

    with contextlib.redirect_stdout(sys.stderr):
        model = train_nlu(
            config=str(config),
            nlu_data=str(nlu),
            output=str(out),
            fixed_model_name="nlu",
            domain=str(domain),
        )
    if not model:
        raise RuntimeError(f"training failed for {nlu}")
    return Path(model)


def scored_from_parse(text: str, gold: str, parsed: Dict[str, Any]) -> Scored:
    """What the band needs from one parse result."""
    ranking = [
        (r["name"], float(r["confidence"]))
        for r in parsed.get("intent_ranking") or []
        if r.get("name") != FALLBACK
    ]
    if not ranking:  # no ranking at all: take the intent as it is
        intent = parsed.get("intent") or {}
        ranking = [(intent.get("name") or FALLBACK, float(intent.get("confidence") or 0.0))]
    final = (parsed.get("intent") or {}).get("name")
    vetoed = final in (FALLBACK, OOS) and HANDOFF not in {name for name, _ in ranking}
    second = ranking[1][1] if len(ranking) > 1 else 0.0
    return Scored(text, gold, ranking[0][0], ranking[0][1], second, vetoed)


async def _parse_all(model: Path, examples: Sequence[Tuple[str, str]]) -> List[Scored]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    return [scored_from_parse(t, gold, await agent.parse_message(t)) for t, gold in examples]


def parse_examples(model: Path, examples: Sequence[Tuple[str, str]]) -> List[Scored]:
    """(text, gold intent) pairs parsed by a trained model."""
    with contextlib.redirect_stdout(sys.stderr):
        return asyncio.run(_parse_all(model, examples))


@contextlib.contextmanager
def scratch_dir() -> Any:
    """A temporary directory, also holding rasa's training cache (kept out of the repo)."""
    with tempfile.TemporaryDirectory(prefix="nlu-cv-") as tmp:
        os.environ.setdefault("RASA_CACHE_DIRECTORY", str(Path(tmp) / "cache"))
        os.environ.setdefault("RASA_MAX_CACHE_SIZE", "0")
        yield Path(tmp)


def cross_validate(config: Path, nlu: Path, domain: Path, folds: int, seed: int) -> List[Scored]:
    """Held-out parse of every training example, stratified k-fold."""
    data = load_training_data(nlu)
    examples = sorted(data.intent_examples, key=lambda m: (m.get("intent"), m.get("text") or ""))
    labels = [m.get("intent_response_key") or m.get("intent") for m in examples]
    entity_only = [m for m in data.training_examples if not m.get("intent")]
    scored: List[Scored] = []
    with scratch_dir() as tmp:
        for number, held in enumerate(stratified_folds(labels, folds, seed), start=1):
            held_set = set(held)
            keep = [m for i, m in enumerate(examples) if i not in held_set] + entity_only
            work = tmp / f"fold{number}"
            work.mkdir()
            write_training_data(data, keep, work / "nlu.yml")
            model = train_model(config, work / "nlu.yml", work, domain)
            pairs = [(examples[i].get("text"), examples[i].get("intent")) for i in held]
            scored += parse_examples(model, pairs)
            print(f"fold {number}/{folds}: {len(held)} held-out examples", file=sys.stderr)
    return scored


def parse_dev_set(config: Path, nlu: Path, domain: Path, dev: Path) -> List[Scored]:
    """Train on all of `nlu` and parse a development set (a sanity check, not for tuning)."""
    data = load_training_data(dev)
    pairs = [(m.get("text"), m.get("intent")) for m in data.intent_examples]
    with scratch_dir() as tmp:
        model = train_model(config, nlu, tmp, domain)
        return parse_examples(model, pairs)
