"""Signed-in browsers: random session tokens stored hashed, with a CSRF token and expiry."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Optional, Tuple

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.desk.agents import AgentView, get_agent
from bot.store.models import AgentSession, utcnow


@dataclass(frozen=True)
class SignedIn:
    """One live session: who, its CSRF token, and when it ends."""

    session_id: int
    agent: AgentView
    csrf_token: str
    expires_at: dt.datetime


def token_hash(token: str) -> str:
    """The sha256 hex digest stored instead of the cookie's token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(session: Session, agent_id: int, hours: float) -> Tuple[str, SignedIn]:
    """A new session for the agent; returns the cookie token (never stored) and the session."""
    token = secrets.token_urlsafe(32)
    row = AgentSession(
        token_hash=token_hash(token),
        agent_id=agent_id,
        csrf_token=secrets.token_urlsafe(32),
        expires_at=utcnow() + dt.timedelta(hours=hours),
    )
    session.add(row)
    session.flush()
    agent = get_agent(session, agent_id)
    assert agent is not None
    return token, SignedIn(row.id, agent, row.csrf_token, row.expires_at)


def find_session(session: Session, token: Optional[str]) -> Optional[SignedIn]:
    """The live session of a cookie token, or None (unknown, expired, or agent disabled)."""
    if not token or len(token) > 200:
        return None
    row = session.execute(
        select(AgentSession).where(
            AgentSession.token_hash == token_hash(token), AgentSession.expires_at > utcnow()
        )
    ).scalar_one_or_none()
    if row is None:
        return None
    agent = get_agent(session, row.agent_id)
    if agent is None or not _active(session, row.agent_id):
        return None
    return SignedIn(row.id, agent, row.csrf_token, row.expires_at)


def session_alive(session: Session, session_id: int) -> bool:
    """True while the session exists and has not expired (checked by the live stream)."""
    return (
        session.execute(
            select(AgentSession.id).where(
                AgentSession.id == session_id, AgentSession.expires_at > utcnow()
            )
        ).first()
        is not None
    )


def end_session(session: Session, token: Optional[str]) -> Optional[int]:
    """Sign out: delete the session; returns its agent id (None if there was none)."""
    if not token:
        return None
    row = session.execute(
        select(AgentSession).where(AgentSession.token_hash == token_hash(token))
    ).scalar_one_or_none()
    if row is None:
        return None
    agent_id = row.agent_id
    session.delete(row)
    session.flush()
    return agent_id


def live_sessions(session: Session, agent_id: int) -> int:
    """How many unexpired sessions the agent still has (other browsers)."""
    return int(
        session.execute(
            select(func.count())
            .select_from(AgentSession)
            .where(AgentSession.agent_id == agent_id, AgentSession.expires_at > utcnow())
        ).scalar()
        or 0
    )


def purge_expired(session: Session) -> int:
    """Delete expired sessions."""
    return session.execute(
        delete(AgentSession)
        .where(AgentSession.expires_at <= utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount


def _active(session: Session, agent_id: int) -> bool:
    from bot.store.models import Agent

    return bool(session.execute(select(Agent.active).where(Agent.id == agent_id)).scalar())
