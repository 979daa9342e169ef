"""The desk's change feed: a table every console follows by id (works across processes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from bot.store.models import DeskEvent


@dataclass(frozen=True)
class EventView:
    id: int
    kind: str
    conversation_id: Optional[int]
    agent_id: Optional[int]
    team: Optional[str]


def publish(
    session: Session,
    kind: str,
    conversation_id: Optional[int] = None,
    agent_id: Optional[int] = None,
    team: Optional[str] = None,
    actor_id: Optional[int] = None,
    from_agent_id: Optional[int] = None,
) -> None:
    """One change; `actor_id`/`from_agent_id` name who moved a chat and from whom."""
    values = {"kind": kind, "conversation_id": conversation_id, "agent_id": agent_id, "team": team}
    if actor_id is not None:
        values["actor_id"] = actor_id
    if from_agent_id is not None:
        values["from_agent_id"] = from_agent_id
    session.execute(insert(DeskEvent).values(**values))


def events_since(session: Session, last_id: int, limit: int = 200) -> List[EventView]:
    rows = session.execute(
        select(DeskEvent).where(DeskEvent.id > last_id).order_by(DeskEvent.id).limit(limit)
    ).scalars()
    return [EventView(r.id, r.kind, r.conversation_id, r.agent_id, r.team) for r in rows]


def latest_event_id(session: Session) -> int:
    return session.execute(select(func.max(DeskEvent.id))).scalar() or 0
