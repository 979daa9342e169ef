"""`rasa data validate` and `rasa test` keep working as documented."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from bot.launcher import RASA, child_env
from bot.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow


def rasa(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [RASA, *args],
        cwd=PROJECT_ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )


def responses_used_by_actions() -> set:
    """Responses named in actions/ code, plus the form's utter_ask_<slot> questions."""
    import yaml

    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
    names = {
        f"utter_ask_{slot}" for form in domain["forms"].values() for slot in form["required_slots"]
    }
    code = list((PROJECT_ROOT / "actions").glob("*.py")) + list(
        (PROJECT_ROOT / "bot").rglob("*.py")
    )
    for path in code:
        names |= set(re.findall(r'"(utter_[\w/]+)"', path.read_text()))
    return names


def test_data_validate_is_clean() -> None:
    result = rasa("data", "validate")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    unused = set(re.findall(r"The utterance '(utter_[\w/]+)' is not used in any story", output))
    # Utterances sent by custom actions are not in stories; anything else is dead text.
    assert unused - responses_used_by_actions() - {"utter_faq"} == set()
    assert "Story structure conflict" not in output


def test_rasa_test_stories_all_pass(trained_model: Path, tmp_path: Path) -> None:
    result = rasa(
        "test",
        "core",
        "--stories",
        "tests/stories",
        "--model",
        str(trained_model),
        "--out",
        str(tmp_path),
        "--fail-on-prediction-errors",
    )
    failed = tmp_path / "failed_test_stories.yml"
    failures = failed.read_text() if failed.exists() else ""
    assert result.returncode == 0, failures or result.stderr[-3000:]
    assert "# predicted" not in failures
