"""The queue: position, typical wait, and auto-assignment to the least-loaded agent."""

from __future__ import annotations

import datetime as dt
import statistics
from typing import List, Optional, Tuple

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from bot.desk.agents import AgentView, list_agents, loads
from bot.store.models import Conversation, HandoffRequest, utcnow
from bot.store.ownership import QUEUE, claim


def waiting(session: Session, team: Optional[str] = None) -> List[Conversation]:
    """Queued conversations, longest-waiting first."""
    query = select(Conversation).where(Conversation.owner == QUEUE)
    if team:
        query = query.where(Conversation.team == team)
    return list(session.execute(query.order_by(Conversation.queued_at, Conversation.id)).scalars())


def queue_position(session: Session, conversation_id: int) -> Optional[int]:
    """1 for the next in line of its team; None if not queued."""
    me = session.get(Conversation, conversation_id, populate_existing=True)
    if me is None or me.owner != QUEUE:
        return None
    ahead = session.execute(
        select(func.count())
        .select_from(Conversation)
        .where(
            Conversation.owner == QUEUE,
            Conversation.team == me.team,
            or_(
                Conversation.queued_at < me.queued_at,
                and_(Conversation.queued_at == me.queued_at, Conversation.id < me.id),
            ),
        )
    ).scalar()
    return int(ahead) + 1


def typical_wait(session: Session, team: str, sample: int = 20) -> Optional[dt.timedelta]:
    """Median time to claim over the team's recent handoffs; None without history."""
    rows = session.execute(
        select(HandoffRequest.created_at, HandoffRequest.claimed_at)
        .where(HandoffRequest.team == team, HandoffRequest.claimed_at.isnot(None))
        .order_by(HandoffRequest.id.desc())
        .limit(sample)
    ).all()
    waits = [(claimed - created).total_seconds() for created, claimed in rows]
    return dt.timedelta(seconds=statistics.median(waits)) if waits else None


def _assignable(session: Session, heartbeat_timeout: Optional[dt.timedelta]) -> List[AgentView]:
    """Online agents who take automatic assignments and whose console was heard within
    `heartbeat_timeout` (a silent one keeps its chats for a grace period, but gets no
    new ones)."""
    cutoff = utcnow() - heartbeat_timeout if heartbeat_timeout is not None else None
    return [
        a
        for a in list_agents(session)
        if a.status == "online"
        and a.auto_assign
        and (cutoff is None or (a.last_seen_at is not None and a.last_seen_at >= cutoff))
    ]


def free_slots(session: Session, team: str, heartbeat_timeout: Optional[dt.timedelta]) -> int:
    """How many more chats of `team` auto-assignment can hand out right now."""
    load = loads(session)
    return sum(
        max(0, a.capacity - load.get(a.id, 0))
        for a in _assignable(session, heartbeat_timeout)
        if team in a.teams
    )


def auto_assign(
    session: Session, heartbeat_timeout: Optional[dt.timedelta] = None
) -> List[Tuple[int, int]]:
    """Give each waiting chat (oldest first) to the least-loaded online agent of its team
    who takes automatic assignments (supervisors only when they opted in) and whose
    console was heard within `heartbeat_timeout`."""
    agents = _assignable(session, heartbeat_timeout)
    if not agents:
        return []
    load = loads(session)
    assigned: List[Tuple[int, int]] = []
    for conversation in waiting(session):
        team = conversation.team or "general"
        candidates = [a for a in agents if team in a.teams and load.get(a.id, 0) < a.capacity]
        if not candidates:
            continue
        chosen = min(candidates, key=lambda a: (load.get(a.id, 0), a.id))
        if claim(session, conversation.id, chosen.id, automatic=True):
            load[chosen.id] = load.get(chosen.id, 0) + 1
            assigned.append((conversation.id, chosen.id))
    return assigned
