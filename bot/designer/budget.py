"""A bot reply against the SMS segment budget: shared by `make check` and the live FAQ answers.

Counted with the SMS channel's own segment counter (bot/sms/segments.py). A domain response
is measured with each {placeholder} at the longest value an action puts there: customer
text (data/checks.yml `customer_text`) at its UCS-2 worst case, unless it is folded to GSM-7
when filled (bot/sms/customer_text.py FOLDED_PLACEHOLDERS), and with its buttons rendered as
the channel sends them. An FAQ answer is sent as written (actions/faq.py fills nothing in),
so it is measured as written.
"""

from __future__ import annotations

import re
import string
from typing import Iterable, List, Mapping, Optional, Sequence, Tuple

from bot.sms.customer_text import FOLDED_PLACEHOLDERS
from bot.sms.segments import UCS2, sms_info
from bot.sms.text import render_choices

_PLACEHOLDER = re.compile(r"\{(\w+)\}")

# The worst customer text of a given length in UTF-16 code units: emoji, which switch the SMS
# to UCS-2 and take two units each that are never split across segments.
WIDE_CUSTOMER_CHAR = "\U0001f600"
NARROW_CUSTOMER_CHAR = "\u00eb"  # e with diaeresis: not GSM-7, one UTF-16 unit


def worst_value(length: int, customer_text: bool) -> str:
    """The costliest value of `length`: plain GSM-7 letters, or for customer text emoji (plus
    one non-GSM-7 letter for an odd length), which make the whole SMS UCS-2."""
    if not customer_text:
        return string.ascii_lowercase[0] * length
    return WIDE_CUSTOMER_CHAR * (length // 2) + NARROW_CUSTOMER_CHAR * (length % 2)


def fill_placeholders(
    text: str, lengths: Mapping[str, int], customer_text: Iterable[str] = ()
) -> Tuple[str, List[str]]:
    """The text with each {placeholder} at its longest value, and the unknown ones.

    Placeholders in `customer_text` get a worst-case UCS-2 value (lengths in UTF-16 units);
    the others, and customer text folded to GSM-7 when filled (FOLDED_PLACEHOLDERS), GSM-7."""
    unknown: List[str] = []
    wide = set(customer_text) - FOLDED_PLACEHOLDERS

    def longest(match: re.Match) -> str:
        name = match.group(1)
        if name not in lengths:
            unknown.append(name)
            return ""
        return worst_value(int(lengths[name]), name in wide)

    return _PLACEHOLDER.sub(longest, text), unknown


def reply_problems(
    name: str,
    text: str,
    budget: int,
    lengths: Optional[Mapping[str, int]] = None,
    customer_text: Iterable[str] = (),
    buttons: Sequence[Mapping[str, str]] = (),
) -> List[str]:
    """What keeps one reply from its budget; `lengths` None: the text is sent as written."""
    problems: List[str] = []
    if lengths is None:
        filled, unknown = text, []
    else:
        filled, unknown = fill_placeholders(text, lengths, customer_text)
    filled = render_choices(filled, list(buttons))  # as the channel sends them
    for placeholder in unknown:
        problems.append(
            f"{name}: placeholder {{{placeholder}}} has no longest length "
            "in data/checks.yml placeholder_max_length"
        )
    info = sms_info(filled)
    if info.segments > budget:
        where = " with placeholders at their longest" if lengths is not None else ""
        unit = "UTF-16 units, UCS-2" if info.encoding == UCS2 else "characters"
        problems.append(
            f"{name} takes {info.segments} SMS segments{where} ({info.length} {unit}); "
            f"the budget is {budget}"
        )
    return problems
