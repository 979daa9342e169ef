"""Handoff requests: the bot asking for a person (the queue serving them comes later)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import HandoffRequest

REASON_TEAMS = {
    "asked": "general",
    "fallback": "general",
    "action_error": "general",
    "order_issue": "orders",
    "booking_issue": "bookings",
}


@dataclass(frozen=True)
class HandoffView:
    id: int
    phone: str
    reason: str
    team: str
    status: str


def team_for(reason: str, topic: Optional[str] = None) -> str:
    """The team a handoff needs: the conversation's topic wins, else the reason's default."""
    if topic in ("orders", "bookings"):
        return topic
    return REASON_TEAMS.get(reason, "general")


def record_handoff(
    session: Session, phone: str, reason: str, team: str, detail: Optional[str] = None
) -> HandoffView:
    """Record a request for a person; an open one for the same phone is reused."""
    existing = session.execute(
        select(HandoffRequest).where(HandoffRequest.phone == phone, HandoffRequest.status == "open")
    ).scalar_one_or_none()
    row = existing or HandoffRequest(phone=phone, reason=reason, team=team, detail=detail)
    if existing is None:
        session.add(row)
        session.flush()
    return HandoffView(row.id, row.phone, row.reason, row.team, row.status)


def open_handoffs(session: Session) -> List[HandoffView]:
    rows = session.execute(
        select(HandoffRequest).where(HandoffRequest.status == "open").order_by(HandoffRequest.id)
    ).scalars()
    return [HandoffView(r.id, r.phone, r.reason, r.team, r.status) for r in rows]
