"""Handoff requests: the bot asking for a person, queued for the agent desk."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Mapping, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.models import HandoffRequest
from bot.store.ownership import QUEUE, hand_to_queue, ownership_of
from bot.store.turn_writes import first_write


@dataclass(frozen=True)
class HandoffView:
    id: int
    phone: str
    reason: str
    team: str
    status: str


TOPIC_TEAMS = ("orders", "bookings")


def team_for(
    reason: str,
    topic: Optional[str],
    reason_teams: Mapping[str, str],
    named_topic: Optional[str] = None,
) -> str:
    """The team a handoff needs (`reason_teams`: Settings.reason_teams, HANDOFF_TEAMS).

    An explicit ask for a person (`asked`) goes to the team configured for `asked` unless
    the same text named a topic (`named_topic`): what the customer said earlier does not
    send "I want to speak to a manager" to a topic team. Other reasons (fallback, action
    errors) follow the conversation's `topic`, else the reason's team.
    """
    if reason == "asked":
        return named_topic if named_topic in TOPIC_TEAMS else reason_teams.get(reason, "general")
    if topic in TOPIC_TEAMS:
        return topic
    return reason_teams.get(reason, "general")


def record_handoff(
    session: Session,
    phone: str,
    reason: str,
    team: str,
    detail: Optional[str] = None,
    message_id: Optional[str] = None,
) -> HandoffView:
    """Ask for a person: the conversation joins the team's queue (once; repeats reuse it).
    A handoff already asked for by the text `message_id` (a replayed turn) is not redone."""
    if not first_write(session, message_id, "handoff"):
        current = ownership_of(session, phone)
        return HandoffView(current.handoff_id or 0, phone, reason, current.team or team, "open")
    ownership = hand_to_queue(session, phone, reason, team, detail)
    row = session.get(HandoffRequest, ownership.handoff_id) if ownership.handoff_id else None
    if row is None:  # already with an agent (no open handoff row to show)
        return HandoffView(0, phone, reason, ownership.team or team, ownership.owner)
    return HandoffView(row.id, row.phone, row.reason, row.team, row.status)


def open_handoffs(session: Session) -> List[HandoffView]:
    rows = session.execute(
        select(HandoffRequest).where(HandoffRequest.status == "open").order_by(HandoffRequest.id)
    ).scalars()
    return [HandoffView(r.id, r.phone, r.reason, r.team, r.status) for r in rows]


__all__ = ["QUEUE", "HandoffView", "open_handoffs", "record_handoff", "team_for"]
