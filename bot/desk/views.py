"""Read models for the console's lists: the queue, an agent's chats (with unread counts),
and the directory of teams and agents (transfer targets)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from bot.desk.agents import AgentView, list_agents, loads
from bot.settings import DEFAULT_REASON_TEAMS
from bot.store.models import AgentRead, Conversation, Customer, HandoffRequest, Message, utcnow
from bot.store.ownership import AGENT, QUEUE

PREVIEW_CHARS = 90


@dataclass(frozen=True)
class QueueItem:
    """A conversation waiting for a person."""

    conversation_id: int
    phone: str
    customer_name: Optional[str]
    team: str
    reason: Optional[str]
    detail: Optional[str]
    queued_at: Optional[dt.datetime]
    waiting_seconds: float
    preview: str
    preview_at: Optional[dt.datetime]


@dataclass(frozen=True)
class MyChat:
    """A conversation the agent owns, with how many customer texts they have not read."""

    conversation_id: int
    phone: str
    customer_name: Optional[str]
    team: str
    reason: Optional[str]
    unread: int
    preview: str
    preview_at: Optional[dt.datetime]


@dataclass(frozen=True)
class AgentBrief:
    """An agent as shown to colleagues: presence and load."""

    id: int
    name: str
    username: str
    role: str
    status: str
    teams: List[str]
    load: int
    capacity: int
    last_seen_at: Optional[dt.datetime]
    auto_assign: bool = True


@dataclass(frozen=True)
class Directory:
    """Teams and agents (for transfers and the supervisor view)."""

    teams: List[str]
    agents: List[AgentBrief]


def _previews(
    session: Session, conversation_ids: Sequence[int]
) -> Dict[int, Tuple[str, dt.datetime]]:
    """conversation id -> (last customer text, when)."""
    if not conversation_ids:
        return {}
    latest = (
        select(Message.conversation_id, func.max(Message.id).label("last_id"))
        .where(Message.conversation_id.in_(conversation_ids), Message.direction == "in")
        .group_by(Message.conversation_id)
        .subquery()
    )
    rows = session.execute(
        select(Message.conversation_id, Message.text, Message.kind, Message.created_at).join(
            latest, Message.id == latest.c.last_id
        )
    ).all()
    result = {}
    for conversation_id, text, kind, created_at in rows:
        preview = (text or "").strip() or ("[picture]" if kind == "mms" else "")
        if len(preview) > PREVIEW_CHARS:
            preview = preview[: PREVIEW_CHARS - 1] + "…"
        result[conversation_id] = (preview, created_at)
    return result


def _conversations(session: Session, *conditions: object) -> list:
    return session.execute(
        select(Conversation, Customer.name, HandoffRequest.reason, HandoffRequest.detail)
        .outerjoin(Customer, Customer.phone == Conversation.phone)
        .outerjoin(HandoffRequest, HandoffRequest.id == Conversation.handoff_id)
        .where(*conditions)
        .order_by(Conversation.queued_at, Conversation.id)
    ).all()


def waiting_items(
    session: Session, teams: Optional[Iterable[str]] = None, now: Optional[dt.datetime] = None
) -> List[QueueItem]:
    """Queued conversations (of these teams; None: all), longest-waiting first."""
    now = now or utcnow()
    conditions = [Conversation.owner == QUEUE]
    if teams is not None:
        conditions.append(func.coalesce(Conversation.team, "general").in_(list(teams)))
    rows = _conversations(session, *conditions)
    previews = _previews(session, [row[0].id for row in rows])
    items = []
    for conversation, name, reason, detail in rows:
        preview, preview_at = previews.get(conversation.id, ("", None))
        queued_at = conversation.queued_at
        items.append(
            QueueItem(
                conversation.id,
                conversation.phone,
                name,
                conversation.team or "general",
                reason,
                detail,
                queued_at,
                max(0.0, (now - queued_at).total_seconds()) if queued_at else 0.0,
                preview,
                preview_at,
            )
        )
    return items


def queue_for(
    session: Session, agent: AgentView, now: Optional[dt.datetime] = None
) -> List[QueueItem]:
    """The queue an agent sees: their teams' chats; a supervisor sees every team."""
    return waiting_items(session, None if agent.is_supervisor else agent.teams, now)


def unread_counts(
    session: Session, agent_id: int, conversation_ids: Sequence[int]
) -> Dict[int, int]:
    """conversation id -> customer texts newer than what the agent has read."""
    if not conversation_ids:
        return {}
    rows = session.execute(
        select(Message.conversation_id, func.count())
        .outerjoin(
            AgentRead,
            and_(
                AgentRead.conversation_id == Message.conversation_id,
                AgentRead.agent_id == agent_id,
            ),
        )
        .where(
            Message.conversation_id.in_(conversation_ids),
            Message.direction == "in",
            Message.id > func.coalesce(AgentRead.last_message_id, 0),
        )
        .group_by(Message.conversation_id)
    ).all()
    return {conversation_id: int(count) for conversation_id, count in rows}


def my_chats(session: Session, agent_id: int) -> List[MyChat]:
    """The agent's conversations, most recent customer text first."""
    rows = _conversations(session, Conversation.owner == AGENT, Conversation.agent_id == agent_id)
    ids = [row[0].id for row in rows]
    previews = _previews(session, ids)
    unread = unread_counts(session, agent_id, ids)
    chats = []
    for conversation, name, reason, _detail in rows:
        preview, preview_at = previews.get(conversation.id, ("", None))
        chats.append(
            MyChat(
                conversation.id,
                conversation.phone,
                name,
                conversation.team or "general",
                reason,
                unread.get(conversation.id, 0),
                preview,
                preview_at,
            )
        )
    oldest = dt.datetime.min
    chats.sort(key=lambda c: (c.preview_at or oldest, c.conversation_id), reverse=True)
    return chats


def known_teams(session: Session, agents: Optional[List[AgentView]] = None) -> List[str]:
    """Every team anyone works in or any conversation is routed to."""
    teams = {team for _reason, team in DEFAULT_REASON_TEAMS}
    for agent in agents if agents is not None else list_agents(session):
        teams.update(agent.teams)
    teams.update(t for t in session.execute(select(Conversation.team).distinct()).scalars() if t)
    return sorted(teams)


def directory(session: Session) -> Directory:
    """Teams and active agents with their presence and load."""
    from bot.store.models import Agent

    active = set(session.execute(select(Agent.id).where(Agent.active.is_(True))).scalars())
    agents = [a for a in list_agents(session) if a.id in active]
    load = loads(session)
    briefs = [
        AgentBrief(
            a.id,
            a.name,
            a.username,
            a.role,
            a.status,
            a.teams,
            int(load.get(a.id, 0)),
            a.capacity,
            a.last_seen_at,
            a.auto_assign,
        )
        for a in agents
    ]
    return Directory(known_teams(session, agents), briefs)
