"""Rasa's own validation (`rasa data validate`) and rule-vs-story contradictions, at file:line.

Runs Rasa's Validator in-process (domain, actions and forms in stories, slot mappings, story
structure conflicts) and trains the RulePolicy of config.yml on the rules and stories, which
is where Rasa finds a rule contradicting another rule or a story (at `rasa train` time).
"""

from __future__ import annotations

import logging
import re
import tempfile
import warnings
from pathlib import Path
from typing import Any, Dict, List, Tuple

import yaml

from bot.designer.checks import Problem

_BLOCK_NAME = re.compile(r"'([^']+)'")


def block_lines(data: Path) -> Dict[str, Tuple[Path, int]]:
    """story/rule name -> (file, line) of every story and rule under data/."""
    found: Dict[str, Tuple[Path, int]] = {}
    for path in sorted(data.rglob("*.yml")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = re.match(r"\s*-\s*(?:story|rule):\s*(.+?)\s*$", line)
            if match:
                found.setdefault(match.group(1).strip("'\""), (path, number))
    return found


def _locate(message: str, blocks: Dict[str, Tuple[Path, int]], fallback: Path) -> Tuple[Path, int]:
    for name in _BLOCK_NAME.findall(message):
        if name in blocks:
            return blocks[name]
    return fallback, 1


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
    blocks = block_lines(data)
    problems: List[Problem] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        importer = TrainingDataImporter.load_from_config(
            str(root / "config.yml"), str(domain_path), [str(data)]
        )
        validator = Validator.from_importer(importer)
        valid = all(
            [
                validator.verify_domain_validity(),
                validator.verify_actions_in_stories_rules(),
                validator.verify_forms_in_stories_rules(),
                validator.verify_form_slots(),
                validator.verify_slot_mappings(),
            ]
        )
    if not valid:
        for warning in caught:
            message = " ".join(str(warning.message).split())
            if "is not used in any story" in message or "More info at" in message:
                continue
            path, line = _locate(message, blocks, domain_path)
            problems.append(Problem(path, line, f"rasa: {message}"))
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
