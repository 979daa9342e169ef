"""The file a designer annotates: YAML, one item per grouped text, an empty `label:`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Iterable, List, Optional, Tuple

import yaml

from bot.review.collect import ReviewItem

HEADER = """\
# Texts the bot failed ({when}), from `python -m bot review`. No sender numbers; long
# numbers (phones, cards) are shown as [number]. Fill `label:` with an intent below, or
# out_of_scope; leave it empty to skip. You may correct `text:` (e.g. a typo you don't want
# learned). Then: python -m bot review --apply THIS_FILE
# intents: {intents}
"""


def write_review_file(path: Path, items: Iterable[ReviewItem], intents: List[str]) -> int:
    """Write the items; how many."""
    rows = [
        {
            "text": item.text,
            "count": item.count,
            "reasons": item.reasons,
            "guess": item.guess,
            "confidence": item.confidence,
            "label": item.label,
        }
        for item in items
    ]
    when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    body = yaml.safe_dump(
        {"items": rows}, sort_keys=False, allow_unicode=True, default_flow_style=None, width=100
    )
    body = body.replace("  label: null\n", "  label:\n")
    path.write_text(HEADER.format(when=when, intents=", ".join(intents)) + body, "utf-8")
    return len(rows)


def read_labels(path: Path) -> List[Tuple[str, str]]:
    """(text, label) of every item with a label."""
    data = yaml.safe_load(path.read_text("utf-8")) or {}
    found = []
    for item in data.get("items") or []:
        label: Optional[str] = item.get("label")
        text = item.get("text")
        if isinstance(label, str) and label.strip() and isinstance(text, str):
            found.append((text, label.strip()))
    return found
