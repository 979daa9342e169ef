"""Agents and supervisors: accounts (argon2 password hashes), presence, capacity."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import List, Optional, Sequence

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.store.events import publish
from bot.store.models import Agent, Conversation, utcnow
from bot.store.ownership import AGENT, requeue_agent_chats

ROLES = ("agent", "supervisor")
STATUSES = ("online", "away", "offline")
_hasher = PasswordHasher()
# Verified against when the username is unknown, so timing does not reveal which names exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


@dataclass(frozen=True)
class AgentView:
    id: int
    username: str
    name: str
    role: str
    teams: List[str]
    capacity: int
    status: str
    last_seen_at: Optional[dt.datetime]
    auto_assign: bool = True  # waiting chats may be assigned to them automatically

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"


def _view(a: Agent) -> AgentView:
    teams = [t.strip() for t in (a.teams or "").split(",") if t.strip()]
    return AgentView(
        a.id,
        a.username,
        a.name,
        a.role,
        teams,
        a.capacity,
        a.status,
        a.last_seen_at,
        bool(a.auto_assign),
    )


def create_agent(
    session: Session,
    username: str,
    name: str,
    password: str,
    role: str = "agent",
    teams: Sequence[str] = ("general",),
    capacity: int = 10,
    auto_assign: Optional[bool] = None,
) -> AgentView:
    """A new account; `auto_assign` defaults to yes for agents, no for supervisors."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")
    if len(password) < 8:
        raise ValueError("password must have at least 8 characters")
    if session.execute(select(Agent.id).where(Agent.username == username)).first():
        raise ValueError(f"agent {username!r} exists already")
    agent = Agent(
        username=username,
        name=name,
        password_hash=_hasher.hash(password),
        role=role,
        teams=",".join(t.strip() for t in teams if t.strip()) or "general",
        capacity=capacity,
        status="offline",
        auto_assign=(role != "supervisor") if auto_assign is None else auto_assign,
    )
    session.add(agent)
    session.flush()
    return _view(agent)


def set_password(session: Session, username: str, password: str) -> None:
    if len(password) < 8:
        raise ValueError("password must have at least 8 characters")
    agent = session.execute(select(Agent).where(Agent.username == username)).scalar_one()
    agent.password_hash = _hasher.hash(password)


def authenticate(session: Session, username: str, password: str) -> Optional[AgentView]:
    agent = session.execute(
        select(Agent).where(Agent.username == username, Agent.active.is_(True))
    ).scalar_one_or_none()
    try:
        _hasher.verify(agent.password_hash if agent else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if agent is None:
        return None
    if _hasher.check_needs_rehash(agent.password_hash):
        agent.password_hash = _hasher.hash(password)
    return _view(agent)


def get_agent(session: Session, agent_id: int) -> Optional[AgentView]:
    agent = session.get(Agent, agent_id, populate_existing=True)
    return _view(agent) if agent else None


def list_agents(session: Session) -> List[AgentView]:
    return [_view(a) for a in session.execute(select(Agent).order_by(Agent.id)).scalars()]


def loads(session: Session) -> dict:
    """agent id -> conversations they own now."""
    rows = session.execute(
        select(Conversation.agent_id, func.count())
        .where(Conversation.owner == AGENT)
        .group_by(Conversation.agent_id)
    ).all()
    return {agent_id: count for agent_id, count in rows}


def set_auto_assign(session: Session, agent_id: int, enabled: bool) -> Optional[AgentView]:
    """Whether the desk may hand this person waiting chats; None if no such agent."""
    agent = session.get(Agent, agent_id)
    if agent is None:
        return None
    agent.auto_assign = enabled
    session.flush()
    publish(session, "agent_status", agent_id=agent_id)
    return _view(agent)


def heartbeat(session: Session, agent_id: int) -> None:
    """The console is open and alive; an offline agent comes online."""
    agent = session.get(Agent, agent_id)
    if agent is None:
        return
    agent.last_seen_at = utcnow()
    if agent.status == "offline":
        agent.status = "online"
        publish(session, "agent_status", agent_id=agent_id)


def set_status(session: Session, agent_id: int, status: str) -> int:
    """Change presence; going offline puts the agent's chats back in the queue."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}")
    session.execute(
        update(Agent)
        .where(Agent.id == agent_id)
        .values(status=status, last_seen_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    publish(session, "agent_status", agent_id=agent_id)
    return requeue_agent_chats(session, agent_id) if status == "offline" else 0


def expire_silent_agents(session: Session, timeout: dt.timedelta) -> List[int]:
    """Agents whose console has been silent longer than `timeout` (the heartbeat timeout
    plus the grace period) go offline; their chats are requeued."""
    cutoff = utcnow() - timeout
    silent = list(
        session.execute(
            select(Agent.id).where(
                Agent.status != "offline",
                (Agent.last_seen_at.is_(None)) | (Agent.last_seen_at < cutoff),
            )
        ).scalars()
    )
    for agent_id in silent:
        set_status(session, agent_id, "offline")
    return silent
