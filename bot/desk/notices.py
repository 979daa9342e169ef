"""What the texter is told about the queue: position, typical wait, or opening hours."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Dict, Optional

from sqlalchemy.orm import Session

from bot.desk.hours import describe_opening, is_open, next_opening
from bot.desk.maintenance_beat import maintenance_alive
from bot.desk.routing import free_slots, queue_position, typical_wait
from bot.settings import Settings
from bot.store.ownership import AGENT, Ownership

# The SMS conversation answers BOT and WAIT (bot.sms.conversation.BACK_TO_BOT, KEEP_WAITING).
WAIT_OFFER = (
    "Sorry for the wait. Reply BOT to continue with our assistant, or WAIT to keep your "
    "place in line."
)
# Handed off while an agent is free to take it at once and a maintenance loop runs to
# assign it: no queue position, no wait.
ASSIGNING_NOW = "OK, I'm passing you to a person. They'll text you here shortly."


def describe_wait(wait: Optional[dt.timedelta]) -> str:
    if wait is None:
        return "a few minutes"
    minutes = round(wait.total_seconds() / 60)
    return "under a minute" if minutes < 1 else f"about {minutes} min"


@dataclass(frozen=True)
class HandoffNotice:
    response: str  # a response name in domain.yml
    values: Dict[str, str]
    text: Optional[str] = None  # said instead of `response` when set


def handoff_notice(session: Session, ownership: Ownership, settings: Settings) -> HandoffNotice:
    """What to tell a texter just queued (`settings`: the desk's business hours and the
    heartbeat timeout). A wait is quoted unless somebody will be assigned at once: an agent
    has a free slot and a console's maintenance loop is running to assign the chat."""
    if ownership.owner == AGENT:
        return HandoffNotice("utter_handoff_with_agent", {})
    position = queue_position(session, ownership.conversation_id) or 1
    if not is_open(None, settings):
        opening = describe_opening(next_opening(None, settings))
        return HandoffNotice(
            "utter_handoff_closed", {"opening": opening, "position": str(position)}
        )
    team = ownership.team or "general"
    heartbeat = dt.timedelta(seconds=settings.agent_heartbeat_timeout_seconds)
    if position <= free_slots(session, team, heartbeat) and maintenance_alive(session):
        return HandoffNotice("utter_handoff_with_agent", {}, text=ASSIGNING_NOW)
    wait = describe_wait(typical_wait(session, team))
    return HandoffNotice("utter_handoff_queued", {"position": str(position), "wait": wait})
