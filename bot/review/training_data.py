"""Adding labelled texts to the training data, in the files' own style.

Each label goes to the `data/nlu/` file that already holds that intent (`faq/<topic>` to
the FAQ file, `out_of_scope` to out_of_scope.yml), as `- text` lines appended to the
intent's `examples: |` block with the block's own indentation; the rest of the file is left
byte for byte. A text already in the training data (under any intent) or in the test sets
is not added, compared as `make check` compares them (bot/designer/checks.py
`duplicate_key`, `heldout_key`: no entity annotations, case, punctuation or extra spaces;
digit runs alike against the training data), so what is added passes its checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Set, Tuple

from bot.designer.checks import duplicate_key, heldout_key, unannotated
from bot.settings import PROJECT_ROOT

NLU_DIR = PROJECT_ROOT / "data" / "nlu"
OUT_OF_SCOPE = "out_of_scope"
_INTENT = re.compile(r"^(?P<indent>\s*)-\s+intent:\s*(?P<name>\S+)\s*$")
_ITEM = re.compile(r"^\s*-\s+\w+:")
_EXAMPLES = re.compile(r"^(?P<indent>\s*)examples:\s*\|")
_EXAMPLE = re.compile(r"^(?P<indent>\s*)-\s(?P<text>.*)$")


def examples_by_intent(path: Path) -> Dict[str, List[str]]:
    """intent -> its example texts, read line by line (the files' `- text` lists)."""
    found: Dict[str, List[str]] = {}
    intent = None
    in_block, block_indent = False, 0
    for line in path.read_text(encoding="utf-8").splitlines():
        if in_block:
            if not line.strip() or len(line) - len(line.lstrip()) > block_indent:
                example = _EXAMPLE.match(line)
                if example and intent is not None:
                    found[intent].append(example["text"])
                continue
            in_block = False
        match = _INTENT.match(line)
        if match:
            intent = match["name"]
            found.setdefault(intent, [])
        elif _ITEM.match(line):
            intent = None  # a regex, lookup or synonym
        elif _EXAMPLES.match(line) and intent is not None:
            in_block, block_indent = True, len(_EXAMPLES.match(line)["indent"])
    return found


def intent_files(nlu_dir: Path = NLU_DIR) -> Dict[str, Path]:
    """intent -> the data/nlu file that holds its examples."""
    files: Dict[str, Path] = {}
    for path in sorted(nlu_dir.glob("*.yml")):
        for intent in examples_by_intent(path):
            files.setdefault(intent, path)
    return files


@dataclass
class KnownTexts:
    """The training and test examples, keyed as `make check` compares them."""

    training: Set[str] = field(default_factory=set)  # duplicate_key of each example
    heldout: Set[str] = field(default_factory=set)  # heldout_key of each test-set text

    def __contains__(self, text: str) -> bool:
        text = unannotated(text)
        return duplicate_key(text) in self.training or heldout_key(text) in self.heldout

    def add(self, text: str) -> None:
        self.training.add(duplicate_key(unannotated(text)))


def known_texts(nlu_dir: Path, test_sets: Iterable[Path]) -> KnownTexts:
    """Every example of the training data and the test sets."""
    known = KnownTexts()
    for path in sorted(nlu_dir.glob("*.yml")):
        for examples in examples_by_intent(path).values():
            known.training.update(duplicate_key(unannotated(e)) for e in examples)
    for path in test_sets:
        if path.exists():
            for examples in examples_by_intent(path).values():
                known.heldout.update(heldout_key(unannotated(e)) for e in examples)
    return known


@dataclass
class Applied:
    added: Dict[str, List[str]] = field(default_factory=dict)  # file -> lines
    duplicates: List[str] = field(default_factory=list)
    unknown: List[Tuple[str, str]] = field(default_factory=list)  # (text, label)


def add_examples(
    labelled: Iterable[Tuple[str, str]],
    nlu_dir: Path,
    test_sets: Iterable[Path],
) -> Applied:
    """Append each (text, intent) to its intent's block; skip duplicates and unknowns.

    `test_sets`: the project's held-out sets (bot/designer/checks.py `Project.heldout_sets`).
    """
    files = intent_files(nlu_dir)
    seen = known_texts(nlu_dir, test_sets)
    result = Applied()
    wanted: Dict[Path, Dict[str, List[str]]] = {}
    for text, label in labelled:
        text = " ".join(text.split())
        if label not in files:
            result.unknown.append((text, label))
            continue
        if not duplicate_key(unannotated(text)) or text in seen:
            result.duplicates.append(text)
            continue
        seen.add(text)
        wanted.setdefault(files[label], {}).setdefault(label, []).append(text)
    for path, by_intent in wanted.items():
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        for intent, texts in by_intent.items():
            lines = insert_examples(lines, intent, texts)
            result.added.setdefault(str(path), []).extend(texts)
        path.write_text("".join(lines), encoding="utf-8")
    return result


def insert_examples(lines: List[str], intent: str, texts: List[str]) -> List[str]:
    """`lines` with `texts` as `- text` lines after the last example of `intent`."""
    start = next(i for i, line in enumerate(lines) if _is_intent(line, intent))
    block = next(i for i in range(start + 1, len(lines)) if _EXAMPLES.match(lines[i]))
    block_indent = len(_EXAMPLES.match(lines[block])["indent"])
    last, item_indent = block, " " * (block_indent + 2) + "- "
    for i in range(block + 1, len(lines)):
        line = lines[i]
        if line.strip() and len(line) - len(line.lstrip()) <= block_indent:
            break
        example = _EXAMPLE.match(line.rstrip("\n"))
        if example:
            last, item_indent = i, example["indent"] + "- "
    new = [f"{item_indent}{_yaml_safe(text)}\n" for text in texts]
    if not lines[last].endswith("\n"):
        lines[last] += "\n"
    return lines[: last + 1] + new + lines[last + 1 :]


def _is_intent(line: str, intent: str) -> bool:
    match = _INTENT.match(line.rstrip("\n"))
    return bool(match) and match["name"] == intent


def _yaml_safe(text: str) -> str:
    """A line inside a literal block needs no quoting; keep it one line."""
    return text.replace("\n", " ").replace("\r", " ")
