"""bench/tune_band.py's offline replay of the band, on fabricated cross-validation scores."""

from __future__ import annotations

from bench.nlu_cv import Scored, scored_from_parse
from bench.tune_band import ROOT, figures, outcome, pipeline_settings, sweep, utility


def s(gold: str, top: str, confidence: float, second: float = 0.0, vetoed: bool = False):
    return Scored("text", gold, top, confidence, second, vetoed)


def test_outcomes_of_the_three_zones() -> None:
    assert outcome(s("faq", "faq", 0.9), 0.4, 0.6, 0.05) == ("answered", "faq")
    assert outcome(s("faq", "faq", 0.5), 0.4, 0.6, 0.05) == ("clarify", "faq")
    assert outcome(s("faq", "faq", 0.3), 0.4, 0.6, 0.05) == ("oos", "out_of_scope")
    assert outcome(s("faq", "out_of_scope", 0.5), 0.4, 0.6, 0.05) == ("oos", "out_of_scope")
    assert outcome(s("faq", "faq", 0.62, 0.6), 0.4, 0.6, 0.05) == ("clarify", "faq")  # ambiguous
    assert outcome(s("faq", "faq", 0.9, vetoed=True), 0.4, 0.6, 0.05) == ("clarify", "faq")


def test_utilities() -> None:
    assert utility(s("faq", "faq", 0.9), "answered", "faq") == 1.0
    assert utility(s("faq", "faq", 0.5), "clarify", "faq") == 0.75
    assert utility(s("faq", "greet", 0.9), "answered", "greet") == -0.25
    assert utility(s("out_of_scope", "track_order", 0.9), "answered", "track_order") == -1.0
    assert utility(s("out_of_scope", "faq", 0.5), "clarify", "faq") == 0.0
    assert utility(s("out_of_scope", "out_of_scope", 0.9), "oos", "out_of_scope") == 1.0


def test_the_sweep_prefers_a_band_that_catches_unsure_out_of_scope() -> None:
    scored = (
        [s("faq", "faq", 0.95)] * 50
        + [s("faq", "faq", 0.55)] * 4  # unsure, mostly right: worth clarifying ...
        + [s("out_of_scope", "track_order", 0.55)] * 2  # ... rather than answering
        + [s("out_of_scope", "track_order", 0.35)] * 10  # unsure and wrong: out of scope
        + [s("out_of_scope", "out_of_scope", 0.9)] * 20
    )
    best = sweep(scored, 0.05)[0]
    assert 0.35 < best["low"] <= 0.55 < best["threshold"]
    row = figures(scored, best["low"], best["threshold"], 0.05)
    assert row["oos_to_action"] == 0.0 and row["clarify_rate"] == 6 / 86


def test_parse_results_to_scores() -> None:
    parsed = {
        "intent": {"name": "out_of_scope", "confidence": 0.1},
        "intent_ranking": [
            {"name": "nlu_fallback", "confidence": 0.6},
            {"name": "faq", "confidence": 0.2},
            {"name": "out_of_scope", "confidence": 0.1},
        ],
    }
    assert scored_from_parse("t", "out_of_scope", parsed) == Scored(
        "t", "out_of_scope", "faq", 0.2, 0.1, True
    )


def test_settings_are_read_from_the_config() -> None:
    low, threshold, ambiguity = pipeline_settings(ROOT / "config.yml")
    assert 0.0 < low <= threshold < 1.0 and ambiguity == 0.05
