"""Who may do what with a conversation (view, claim, reply, note, transfer, resolve)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Dict, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.desk.agents import AgentView
from bot.store.models import HandoffRequest
from bot.store.ownership import AGENT, QUEUE, ownership_by_id


@dataclass(frozen=True)
class Permissions:
    """What the signed-in agent may do with one conversation right now."""

    view: bool = False
    claim: bool = False
    reply: bool = False
    note: bool = False
    transfer: bool = False
    resolve: bool = False

    def as_dict(self) -> Dict[str, bool]:
        """Plain dict for JSON."""
        return asdict(self)


def _last_handler(session: Session, phone: str) -> Optional[int]:
    return session.execute(
        select(HandoffRequest.agent_id)
        .where(HandoffRequest.phone == phone)
        .order_by(HandoffRequest.id.desc())
        .limit(1)
    ).scalar()


def permissions(session: Session, agent: AgentView, conversation_id: int) -> Optional[Permissions]:
    """The agent's permissions on a conversation; None if it does not exist."""
    current = ownership_by_id(session, conversation_id)
    if current is None:
        return None
    supervisor = agent.is_supervisor
    if current.owner == AGENT and current.agent_id == agent.id:
        return Permissions(True, False, True, True, True, True)
    if current.owner == QUEUE:
        mine = supervisor or (current.team or "general") in agent.teams
        return Permissions(view=mine, claim=mine, note=mine)
    if current.owner == AGENT:
        return Permissions(view=supervisor, note=supervisor, resolve=supervisor)
    handled = _last_handler(session, current.phone) == agent.id
    return Permissions(view=supervisor or handled, note=supervisor or handled)
