"""Rasa's own validation (`rasa data validate`) and rule-vs-story contradictions, at file:line.

Runs Rasa's Validator in-process (domain; intents of the NLU data and the stories/rules
listed in the domain; actions, `utter_` responses and forms of stories/rules in the domain;
slot mappings; story structure conflicts) and trains the RulePolicy of config.yml on the
rules and stories, which is where Rasa finds a rule contradicting another rule or a story
(at `rasa train` time). Only what Rasa counts as an error fails: its notes that an intent
or a response is not used in any story or rule (the project's forms, actions and retrieval
intent use them), or that a domain intent has no NLU examples, do not.
"""

from __future__ import annotations

import logging
import re
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

import yaml

from bot.designer.checks import Problem, intent_lines

_QUOTED = re.compile(r"'([^']+)'")
_STEP = re.compile(r"^\s*-?\s*(?:intent|action|active_loop):\s*['\"]?([\w/]+)['\"]?\s*$")
# Warnings of the Validator's checks that are not errors (the check still returns True).
_NOT_ERRORS = ("is not used in any story", "is not found in the NLU training data")

Where = Tuple[Path, int]


@dataclass
class DataLines:
    """Where names are written under data/: stories/rules, their steps, NLU intents."""

    blocks: Dict[str, Where]  # story/rule name
    steps: Dict[str, Where]  # intent or action named by a story/rule step
    intents: Dict[str, Where]  # `- intent:` of the NLU data

    def locate(self, message: str, fallback: Path) -> Where:
        """The first place a quoted name of `message` is written; NLU first for NLU messages."""
        about_nlu = "training data" in message
        order = (self.intents, self.steps, self.blocks) if about_nlu else (self.steps, self.blocks)
        for index in order:
            for name in _QUOTED.findall(message):
                if name in index:
                    return index[name]
        return fallback, 1


def block_lines(data: Path) -> Dict[str, Where]:
    """story/rule name -> (file, line) of every story and rule under data/."""
    found: Dict[str, Where] = {}
    for path in sorted(data.rglob("*.yml")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = re.match(r"\s*-\s*(?:story|rule):\s*(.+?)\s*$", line)
            if match:
                found.setdefault(match.group(1).strip("'\""), (path, number))
    return found


def data_lines(data: Path) -> DataLines:
    """Every story/rule, story/rule step and NLU intent under data/ with its first line."""
    steps: Dict[str, Where] = {}
    intents: Dict[str, Where] = {}
    for path in sorted(data.rglob("*.yml")):
        text = path.read_text(encoding="utf-8")
        top = yaml.safe_load(text)
        top = top if isinstance(top, dict) else {}
        if "nlu" in top:
            for name, line in intent_lines(path).items():
                intents.setdefault(name, (path, line))
        if "stories" in top or "rules" in top:
            for number, line in enumerate(text.splitlines(), 1):
                match = _STEP.match(line)
                if match:
                    steps.setdefault(match.group(1), (path, number))
    return DataLines(block_lines(data), steps, intents)


def _locate(message: str, blocks: Dict[str, Where], fallback: Path) -> Where:
    for name in _QUOTED.findall(message):
        if name in blocks:
            return blocks[name]
    return fallback, 1


def validator_problems(
    checks: List[Callable[[], bool]], lines: DataLines, fallback: Path
) -> List[Problem]:
    """Run each Validator check; the warnings of one that fails, bar non-errors, as problems."""
    problems: List[Problem] = []
    for check in checks:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            valid = check()
        if valid:
            continue
        for warning in caught:
            message = " ".join(str(warning.message).split())
            if any(note in message for note in _NOT_ERRORS):
                continue
            path, line = lines.locate(message, fallback)
            problems.append(Problem(path, line, f"rasa: {message}"))
    return problems


def _policy_config(root: Path) -> Dict[str, Any]:
    config = yaml.safe_load((root / "config.yml").read_text()) or {}
    for policy in config.get("policies") or []:
        if policy.get("name") == "RulePolicy":
            return {k: v for k, v in policy.items() if k != "name"}
    return {}


def rasa_problems(root: Path) -> List[Problem]:
    """Rasa's validation errors and rule contradictions of the project at `root`."""
    from rasa.core.training.story_conflict import find_story_conflicts
    from rasa.shared.core.generator import TrainingDataGenerator
    from rasa.shared.importers.importer import TrainingDataImporter
    from rasa.validator import Validator

    logging.getLogger("rasa").setLevel(logging.ERROR)
    data, domain_path = root / "data", root / "domain.yml"
    lines = data_lines(data)
    blocks = lines.blocks
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # loading notes (e.g. slot auto-fill) are not problems
        importer = TrainingDataImporter.load_from_config(
            str(root / "config.yml"), str(domain_path), [str(data)]
        )
        validator = Validator.from_importer(importer)
    problems = validator_problems(
        [
            validator.verify_domain_validity,
            lambda: validator.verify_intents_in_stories(ignore_warnings=False),
            lambda: validator.verify_utterances_in_stories(ignore_warnings=False),
            validator.verify_actions_in_stories_rules,
            validator.verify_forms_in_stories_rules,
            validator.verify_form_slots,
            validator.verify_slot_mappings,
        ],
        lines,
        domain_path,
    )
    trackers = TrainingDataGenerator(
        validator.story_graph, domain=validator.domain, remove_duplicates=False,
        augmentation_factor=0,
    ).generate_story_trackers()  # fmt: skip
    for conflict in find_story_conflicts(trackers, validator.domain, None):
        path, line = _locate(str(conflict), blocks, data)
        problems.append(Problem(path, line, " ".join(str(conflict).split())))
    problems += _rule_contradictions(root, validator, blocks)
    return problems


def _rule_contradictions(
    root: Path, validator: Any, blocks: Dict[str, Tuple[Path, int]]
) -> List[Problem]:
    """Train config.yml's RulePolicy; Rasa raises InvalidRule for contradicting rules/stories."""
    from rasa.core.policies.rule_policy import InvalidRule, RulePolicy
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.core.generator import TrainingDataGenerator

    trackers = TrainingDataGenerator(
        validator.story_graph, domain=validator.domain, augmentation_factor=0
    ).generate()
    with tempfile.TemporaryDirectory() as tmp:
        policy = RulePolicy.create(
            {**RulePolicy.get_default_config(), **_policy_config(root)},
            LocalModelStorage(Path(tmp)),
            Resource("rule_check"),
            ExecutionContext(GraphSchema({}), "check"),
        )
        try:
            policy.train(trackers, validator.domain)
        except InvalidRule as error:
            problems = []
            for item in str(error).split("\n"):
                if item.strip().startswith("- "):
                    path, line = _locate(item, blocks, root / "data")
                    problems.append(Problem(path, line, f"rule contradiction: {item.strip()[2:]}"))
            if not problems:
                message = " ".join(str(error).split())
                problems.append(Problem(root / "data", 1, f"rule contradiction: {message}"))
            return problems
    return []
