"""A bot reply against the SMS segment budget: shared by `make check` and the live FAQ answers.

Counted with the SMS channel's own segment counter (bot/sms/segments.py). A domain response
is measured with each {placeholder} at the longest value an action puts there; an FAQ answer
is sent as written (actions/faq.py fills nothing in), so it is measured as written.
"""

from __future__ import annotations

import re
import string
from typing import List, Mapping, Optional, Tuple

from bot.sms.segments import segment_count

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def fill_placeholders(text: str, lengths: Mapping[str, int]) -> Tuple[str, List[str]]:
    """The text with each {placeholder} at its longest value, and the unknown ones."""
    unknown: List[str] = []

    def longest(match: re.Match) -> str:
        name = match.group(1)
        if name not in lengths:
            unknown.append(name)
            return ""
        return string.ascii_lowercase[0] * int(lengths[name])

    return _PLACEHOLDER.sub(longest, text), unknown


def reply_problems(
    name: str, text: str, budget: int, lengths: Optional[Mapping[str, int]] = None
) -> List[str]:
    """What keeps one reply from its budget; `lengths` None: the text is sent as written."""
    problems: List[str] = []
    filled, unknown = (text, []) if lengths is None else fill_placeholders(text, lengths)
    for placeholder in unknown:
        problems.append(
            f"{name}: placeholder {{{placeholder}}} has no longest length "
            "in data/checks.yml placeholder_max_length"
        )
    segments = segment_count(filled)
    if segments > budget:
        where = " with placeholders at their longest" if lengths is not None else ""
        problems.append(
            f"{name} takes {segments} SMS segments{where} ({len(filled)} characters); "
            f"the budget is {budget}"
        )
    return problems
