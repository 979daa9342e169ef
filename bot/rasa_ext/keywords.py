"""Whole-message SMS keywords (MENU, AGENT, REQUEST, TRACK, ORDER <number>) and what they mean."""

from __future__ import annotations

import re
from typing import Optional, Tuple

from bot.text.orders_format import ORDER_NUMBER_PATTERN

KEYWORD_INTENTS = {
    "MENU": "menu",
    "AGENT": "human_handoff",
    "REQUEST": "book_room",
    "REQUESTS": "my_requests",
    "ORDER": "track_order",
    "ORDERS": "track_order",
    "TRACK": "track_order",  # the reply a shipping notification asks for
}
_ORDER_KEYWORD = re.compile(
    rf"^(?:ORDERS?\s*)?#?\s*({ORDER_NUMBER_PATTERN})$", re.IGNORECASE
)  # "ORDER A1001", "order #a1001" or just "A1001"


def match_keyword(text: str) -> Optional[Tuple[str, Optional[str]]]:
    """The (intent, order number) a whole-message keyword stands for, if it is one."""
    cleaned = re.sub(r"[\s.!?]+$", "", text.strip())
    intent = KEYWORD_INTENTS.get(cleaned.upper())
    if intent:
        return intent, None
    order = _ORDER_KEYWORD.match(cleaned)
    if order:
        return "track_order", order.group(1).upper().replace("-", "")
    return None
