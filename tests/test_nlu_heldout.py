"""The NLU model meets its targets on the held-out set (tests/nlu_heldout/heldout.yml).

Trains an NLU-only model once per session (~30 s) into a temporary directory, or uses the
archive named by NLU_EVAL_MODEL. The evaluation code is bench/nlu_eval.py, the same that
`python bench/nlu_eval.py` prints.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict

import pytest

from bench.nlu_eval import TARGETS, evaluate_async, format_report, train_nlu_model

pytestmark = pytest.mark.slow

_reports: Dict[Path, Dict[str, Any]] = {}


@pytest.fixture(scope="session")
def nlu_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    reuse = os.environ.get("NLU_EVAL_MODEL")
    if reuse:
        return Path(reuse)
    model, _seconds = train_nlu_model(tmp_path_factory.mktemp("nlu_model"))
    return model


async def _report(model: Path) -> Dict[str, Any]:
    if model not in _reports:
        _reports[model] = await evaluate_async(model)
    return _reports[model]


async def test_heldout_in_scope_intent_accuracy(nlu_model: Path) -> None:
    report = await _report(nlu_model)
    assert report["in_scope_accuracy"] >= TARGETS["in_scope_accuracy"], format_report(report)


async def test_heldout_out_of_scope_recall(nlu_model: Path) -> None:
    report = await _report(nlu_model)
    assert report["oos_recall"] >= TARGETS["oos_recall"], format_report(report)


async def test_heldout_out_of_scope_not_routed_to_actions(nlu_model: Path) -> None:
    report = await _report(nlu_model)
    assert report["oos_to_action_share"] <= TARGETS["oos_to_action_share"], format_report(report)
