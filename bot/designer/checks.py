"""`make check`: the project's own checks of the training data, each failure at file:line.

Run as `python -m bot check` (with Rasa's own validation) or call `run_checks`. Settings
(minimum examples, held-out sets, placeholder lengths) come from data/checks.yml.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Set, Tuple

import yaml

from bot.designer.budget import reply_problems
from bot.designer.faq_answers import FaqAnswersError, faq_answer_name, load_faq_answers

FAQ_INTENT = "faq"
_ANNOTATION = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")
_RESPONSE_IN_CODE = re.compile(r"""["'](utter_[\w/]+)["']""")


@dataclass(frozen=True)
class Problem:
    """One failed check: where and what."""

    path: Path
    line: int
    message: str

    def render(self, root: Path) -> str:
        path = self.path.relative_to(root) if self.path.is_relative_to(root) else self.path
        return f"{path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Example:
    """A training/test example with where it was written."""

    text: str
    intent: str  # full name, e.g. "faq/wifi"
    path: Path
    line: int


@dataclass
class Project:
    """The files the checks read; a copy of the project is checked by pointing `root` at it."""

    root: Path
    budget: int = 2  # SMS segments a reply may take (SMS_SEGMENT_BUDGET)
    config: Dict[str, Any] = field(default_factory=dict)

    @property
    def domain(self) -> Path:
        return self.root / "domain.yml"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def faq_answers(self) -> Path:
        return self.data / "faq_answers.yml"

    @property
    def heldout_sets(self) -> List[Path]:
        """The test and development sets, never trained on (data/checks.yml `heldout_sets`)."""
        return [self.root / name for name in self.config.get("heldout_sets") or []]

    @classmethod
    def load(cls, root: Path, budget: int = 2) -> "Project":
        config_path = root / "data" / "checks.yml"
        config = (yaml.safe_load(config_path.read_text()) or {}).get("check") or {}
        return cls(root=root, budget=budget, config=config)


# --- reading YAML with line numbers ---------------------------------------------------------


def _compose(path: Path) -> Optional[yaml.Node]:
    return yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)


def _get(node: Optional[yaml.Node], key: str) -> Optional[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return v
    return None


def unannotated(example: str) -> str:
    """An example's text without entity annotations: `[Bayport](city)` -> `Bayport`."""
    return _ANNOTATION.sub(r"\1", example).strip()


def _block_examples(node: yaml.ScalarNode) -> Iterator[Tuple[str, int]]:
    """(text, 1-based line) of each `- example` of an `examples: |` block."""
    first = node.start_mark.line + (1 if node.style in ("|", ">") else 0)
    for offset, raw in enumerate(node.value.split("\n")):
        stripped = raw.strip()
        if stripped.startswith("- "):
            yield unannotated(stripped[2:]), first + offset + 1


def nlu_examples(path: Path) -> List[Example]:
    """Every intent example of one Rasa NLU YAML file, with its line."""
    found: List[Example] = []
    items = _get(_compose(path), "nlu")
    for item in items.value if isinstance(items, yaml.SequenceNode) else []:
        intent, examples = _get(item, "intent"), _get(item, "examples")
        if isinstance(intent, yaml.ScalarNode) and isinstance(examples, yaml.ScalarNode):
            for text, line in _block_examples(examples):
                found.append(Example(text, intent.value, path, line))
    return found


def intent_lines(path: Path) -> Dict[str, int]:
    """intent name -> line of its `- intent:` in one NLU file."""
    lines: Dict[str, int] = {}
    items = _get(_compose(path), "nlu")
    for item in items.value if isinstance(items, yaml.SequenceNode) else []:
        intent = _get(item, "intent")
        if isinstance(intent, yaml.ScalarNode):
            lines.setdefault(intent.value, intent.start_mark.line + 1)
    return lines


def normal(text: str, digits: bool = False) -> str:
    """Lowercase, no punctuation, apostrophes dropped; each digit run one '0' unless `digits`."""
    text = re.sub(r"['’]", "", text.lower())
    if not digits:
        text = re.sub(r"\d+", "0", text)
    return " ".join(re.sub(r"[^\w]+", " ", text).replace("_", " ").split())


def duplicate_key(text: str) -> str:
    """How two examples are compared for "the same example under two intents"."""
    return normal(text)


def heldout_key(text: str) -> str:
    """How a training example is compared with the texts of the held-out sets."""
    return normal(text, digits=True)


def nlu_files(project: Project) -> List[Path]:
    return sorted((project.data / "nlu").rglob("*.yml"))


def training_examples(project: Project) -> List[Example]:
    return [e for path in nlu_files(project) for e in nlu_examples(path)]


# --- the checks --------------------------------------------------------------------------


def check_examples_per_intent(project: Project, examples: List[Example]) -> List[Problem]:
    """Every intent and FAQ topic has enough different examples."""
    least = int(project.config.get("min_examples_per_intent", 20))
    least_faq = int(project.config.get("min_examples_per_faq_topic", least))
    by_intent: Dict[str, Set[str]] = defaultdict(set)
    first: Dict[str, Example] = {}
    for e in examples:
        by_intent[e.intent].add(normal(e.text))
        first.setdefault(e.intent, e)
    problems = []
    for intent, texts in sorted(by_intent.items()):
        needed = least_faq if intent.startswith(f"{FAQ_INTENT}/") else least
        if len(texts) < needed:
            where = first[intent]
            problems.append(
                Problem(
                    where.path,
                    intent_lines(where.path).get(intent, where.line),
                    f"intent '{intent}' has {len(texts)} different examples, needs {needed} "
                    "(data/checks.yml); add other phrasings",
                )
            )
    return problems


def check_duplicate_examples(examples: List[Example]) -> List[Problem]:
    """No example (normalised) under two intents."""
    seen: Dict[str, Example] = {}
    problems = []
    for e in examples:
        key = duplicate_key(e.text)
        if not key:
            continue
        other = seen.setdefault(key, e)
        if other.intent != e.intent:
            problems.append(
                Problem(
                    e.path,
                    e.line,
                    f"example '{e.text}' of '{e.intent}' is also under '{other.intent}' "
                    f"({other.path.name}:{other.line}); keep it under one intent",
                )
            )
    return problems


def check_heldout_overlap(project: Project, examples: List[Example]) -> List[Problem]:
    """No training example of N+ words is a text of the test or development set."""
    min_words = int(project.config.get("heldout_min_words", 1))
    problems = []
    for path in project.heldout_sets:
        if not path.exists():
            continue
        name = path.relative_to(project.root)
        held = {}
        for e in nlu_examples(path):
            held.setdefault(heldout_key(e.text), e)
        for e in examples:
            key = heldout_key(e.text)
            if len(key.split()) >= min_words and key in held:
                problems.append(
                    Problem(
                        e.path,
                        e.line,
                        f"example '{e.text}' is in the held-out set {name}:{held[key].line}; "
                        "rephrase or drop it from the training data",
                    )
                )
    return problems


def _domain_responses(project: Project) -> Dict[str, Tuple[int, List[str]]]:
    """response name -> (line, its texts) of domain.yml."""
    responses = _get(_compose(project.domain), "responses")
    found: Dict[str, Tuple[int, List[str]]] = {}
    for key, value in responses.value if isinstance(responses, yaml.MappingNode) else []:
        texts = []
        for variant in value.value if isinstance(value, yaml.SequenceNode) else []:
            text = _get(variant, "text")
            if isinstance(text, yaml.ScalarNode):
                texts.append(text.value)
        found[key.value] = (key.start_mark.line + 1, texts)
    return found


def _story_actions(project: Project) -> Set[str]:
    names: Set[str] = set()
    for path in sorted(project.data.rglob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in (data.get("rules") or []) + (data.get("stories") or []):
            for step in block.get("steps") or []:
                if isinstance(step, dict) and step.get("action"):
                    names.add(step["action"])
    return names


def _code_responses(project: Project) -> Set[str]:
    names: Set[str] = set()
    for package in ("actions", "bot", "channels"):
        for path in sorted((project.root / package).rglob("*.py")):
            names |= set(_RESPONSE_IN_CODE.findall(path.read_text(encoding="utf-8")))
    return names


def check_responses_used(project: Project) -> List[Problem]:
    """Every response is named by a rule, story, form question, code or data/checks.yml."""
    domain = yaml.safe_load(project.domain.read_text(encoding="utf-8")) or {}
    used = _story_actions(project) | _code_responses(project)
    used |= set(project.config.get("responses_used_elsewhere") or [])
    for form in (domain.get("forms") or {}).values():
        used |= {f"utter_ask_{slot}" for slot in (form or {}).get("required_slots") or []}
    return [
        Problem(
            project.domain,
            line,
            f"response '{name}' is never used (no rule, story, form or action names it)",
        )
        for name, (line, _) in _domain_responses(project).items()
        if name not in used
    ]


def check_faq_answers(project: Project, examples: List[Example]) -> List[Problem]:
    """Every FAQ topic of the NLU data has an answer and a description, and only those."""
    try:
        answers = load_faq_answers(project.faq_answers)
    except FaqAnswersError as error:
        path, line, message = str(error).split(":", 2)
        return [Problem(Path(path), int(line), message.strip())]
    topics: Dict[str, Example] = {}
    for e in examples:
        if e.intent.startswith(f"{FAQ_INTENT}/"):
            topics.setdefault(e.intent.split("/", 1)[1], e)
    problems = [
        Problem(
            e.path,
            intent_lines(e.path).get(e.intent, e.line),
            f"FAQ topic '{topic}' has no answer and description in data/faq_answers.yml",
        )
        for topic, e in sorted(topics.items())
        if topic not in answers
    ]
    problems += [
        Problem(
            project.faq_answers,
            answer.line,
            f"topic '{topic}' has no examples (faq/{topic} in data/nlu): it is never answered",
        )
        for topic, answer in answers.items()
        if topic not in topics
    ]
    return problems


def check_segment_budget(project: Project) -> List[Problem]:
    """Every response (placeholders at their longest) and FAQ answer fits the budget."""
    lengths = {
        str(k): int(v) for k, v in (project.config.get("placeholder_max_length") or {}).items()
    }
    customer_text = [str(name) for name in project.config.get("customer_text") or []]
    buttons = {
        str(name): [{"title": str(title)} for title in titles]
        for name, titles in (project.config.get("response_buttons") or {}).items()
    }
    texts: List[Tuple[Path, int, str, str, Optional[Dict[str, int]]]] = [
        (project.domain, line, name, text, lengths)
        for name, (line, variants) in _domain_responses(project).items()
        for text in variants
    ]
    try:
        texts += [
            (project.faq_answers, a.line, faq_answer_name(topic), a.answer, None)
            for topic, a in load_faq_answers(project.faq_answers).items()
        ]
    except FaqAnswersError:
        pass  # reported by check_faq_answers
    return [
        Problem(path, line, message)
        for path, line, name, text, filled_with in texts
        for message in reply_problems(
            name, text, project.budget, filled_with, customer_text, buttons.get(name, ())
        )
    ]


def run_checks(project: Project) -> List[Problem]:
    """Every check of the project's own; an empty list when all pass."""
    examples = training_examples(project)
    return [
        *check_examples_per_intent(project, examples),
        *check_duplicate_examples(examples),
        *check_heldout_overlap(project, examples),
        *check_responses_used(project),
        *check_faq_answers(project, examples),
        *check_segment_budget(project),
    ]


def render(problems: Iterable[Problem], root: Path) -> List[str]:
    return [p.render(root) for p in sorted(problems, key=lambda p: (str(p.path), p.line))]
