"""The FAQ answers file (data/faq_answers.yml): topic -> answer and description.

The answers live outside domain.yml so that editing one needs no retraining (domain
responses of a retrieval intent are part of the NLU's training data fingerprint). The
action server reads the file through `FaqAnswerBook`, which rereads it when it changes and
keeps the last good answers when an edit breaks it or puts an answer over the SMS segment
budget (the check of `make check`, bot/designer/budget.py).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import yaml

from bot.designer.budget import reply_problems

logger = logging.getLogger(__name__)

TOP_KEY = "faq_answers"
FIELDS = ("answer", "description")
TOPIC_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class FaqAnswer:
    """One topic's SMS answer and its "did you want to ask about ...?" description."""

    topic: str
    answer: str
    description: str
    line: int  # 1-based line of the topic in the file


class FaqAnswersError(ValueError):
    """The file cannot be used; the message names the file and line."""


def _fail(path: Path, line: int, message: str) -> FaqAnswersError:
    return FaqAnswersError(f"{path}:{line}: {message}")


def _scalar(node: yaml.Node) -> Optional[str]:
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:str":
        return node.value
    return None


def parse_faq_answers(text: str, path: Path) -> Dict[str, FaqAnswer]:
    """The topics of the file's text; FaqAnswersError (file:line) for anything wrong."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise _fail(path, line, f"not valid YAML ({getattr(error, 'problem', error)})") from None
    if not isinstance(root, yaml.MappingNode):
        raise _fail(path, 1, f"expected a mapping with the key '{TOP_KEY}'")
    topics_node = next((v for k, v in root.value if _scalar(k) == TOP_KEY), None)
    if not isinstance(topics_node, yaml.MappingNode):
        raise _fail(path, 1, f"expected '{TOP_KEY}:' with one entry per topic")
    answers: Dict[str, FaqAnswer] = {}
    for key, value in topics_node.value:
        topic, line = _scalar(key), key.start_mark.line + 1
        if not topic or not TOPIC_NAME.match(topic):
            raise _fail(path, line, f"topic name {key.value!r} is not like 'check_in_time'")
        if topic in answers:
            raise _fail(path, line, f"topic '{topic}' appears twice")
        if not isinstance(value, yaml.MappingNode):
            raise _fail(path, line, f"topic '{topic}' needs 'answer:' and 'description:'")
        fields = {_scalar(k): (_scalar(v), v.start_mark.line + 1) for k, v in value.value}
        found: Dict[str, str] = {}
        for name in FIELDS:
            text_value, field_line = fields.get(name, (None, line))
            if not (text_value or "").strip():
                raise _fail(path, field_line, f"topic '{topic}' has no {name} (a non-empty text)")
            found[name] = " ".join(text_value.split())
        unknown = sorted(str(k) for k in fields if k not in FIELDS)
        if unknown:
            raise _fail(path, line, f"topic '{topic}' has unknown fields: {', '.join(unknown)}")
        answers[topic] = FaqAnswer(topic, found["answer"], found["description"], line)
    return answers


def faq_answer_name(topic: str) -> str:
    """How a topic's answer is named in problems."""
    return f"FAQ answer '{topic}'"


def load_faq_answers(path: Path, budget: Optional[int] = None) -> Dict[str, FaqAnswer]:
    """The topics of the file at `path`; FaqAnswersError when missing, broken or, given a
    `budget`, an answer takes more SMS segments (every such answer named at its line)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise FaqAnswersError(f"{path}:1: cannot read ({error.strerror})") from None
    answers = parse_faq_answers(text, path)
    if budget is not None:
        over = [
            f"{path}:{answer.line}: {problem}"
            for topic, answer in answers.items()
            for problem in reply_problems(faq_answer_name(topic), answer.answer, budget)
        ]
        if over:
            raise FaqAnswersError("; ".join(over))
    return answers


class FaqAnswerBook:
    """The answers of one file, reread when its modification time or size changes; with a
    `budget`, a file with an answer over that many SMS segments is refused like a broken one."""

    def __init__(self, path: Path, budget: Optional[int] = None) -> None:
        self.path = Path(path)
        self.budget = budget
        self._answers: Dict[str, FaqAnswer] = {}
        self._seen: Optional[Tuple[int, int]] = None

    def _stamp(self) -> Optional[Tuple[int, int]]:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return (stat.st_mtime_ns, stat.st_size)

    def current(self) -> Dict[str, FaqAnswer]:
        """The answers; an edit that breaks the file is logged and the last good kept."""
        stamp = self._stamp()
        if stamp != self._seen:
            self._seen = stamp
            try:
                self._answers = load_faq_answers(self.path, self.budget)
                logger.info("FAQ answers loaded: %d topics from %s", len(self._answers), self.path)
            except FaqAnswersError as error:
                logger.error("FAQ answers not reloaded, keeping the last good ones: %s", error)
        return self._answers

    def answer(self, topic: str) -> Optional[str]:
        found = self.current().get(topic)
        return found.answer if found else None

    def description(self, topic: str) -> Optional[str]:
        found = self.current().get(topic)
        return found.description if found else None

    def topics(self) -> List[str]:
        return sorted(self.current())
