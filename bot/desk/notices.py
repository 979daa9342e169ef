"""What the texter is told about the queue: position, typical wait, or opening hours."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Dict, Optional

from sqlalchemy.orm import Session

from bot.desk.hours import describe_opening, is_open, next_opening
from bot.desk.routing import queue_position, typical_wait
from bot.settings import Settings
from bot.store.ownership import AGENT, Ownership

# The SMS conversation answers BOT and WAIT (bot.sms.conversation.BACK_TO_BOT, KEEP_WAITING).
WAIT_OFFER = (
    "Sorry for the wait. Reply BOT to continue with our assistant, or WAIT to keep your "
    "place in line."
)


def describe_wait(wait: Optional[dt.timedelta]) -> str:
    if wait is None:
        return "a few minutes"
    minutes = round(wait.total_seconds() / 60)
    return "under a minute" if minutes < 1 else f"about {minutes} min"


@dataclass(frozen=True)
class HandoffNotice:
    response: str  # a response name in domain.yml
    values: Dict[str, str]


def handoff_notice(session: Session, ownership: Ownership, settings: Settings) -> HandoffNotice:
    """What to tell a texter just queued (`settings`: the desk's business hours)."""
    if ownership.owner == AGENT:
        return HandoffNotice("utter_handoff_with_agent", {})
    position = queue_position(session, ownership.conversation_id) or 1
    if not is_open(None, settings):
        opening = describe_opening(next_opening(None, settings))
        return HandoffNotice(
            "utter_handoff_closed", {"opening": opening, "position": str(position)}
        )
    wait = describe_wait(typical_wait(session, ownership.team or "general"))
    return HandoffNotice("utter_handoff_queued", {"position": str(position), "wait": wait})
