"""Chats an agent holds without having answered: for the supervisor page, to reassign."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Dict, List, Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.desk.agents import get_agent
from bot.store.models import Conversation, Customer, DeskEvent, Message, utcnow
from bot.store.ownership import AGENT

# how the current agent got the chat
TAKEN_KINDS = ("claimed", "assigned", "transferred", "reassigned")


@dataclass(frozen=True)
class UnansweredChat:
    """A chat with an agent who has not texted the customer since getting it."""

    conversation_id: int
    phone: str
    customer_name: Optional[str]
    team: str
    agent_id: int
    agent_name: str
    taken_at: dt.datetime
    silent_seconds: float


def _taken_at(session: Session, ids: List[int]) -> Dict[int, dt.datetime]:
    """conversation id -> when its current agent got it (the latest ownership event)."""
    rows = session.execute(
        select(DeskEvent.conversation_id, func.max(DeskEvent.created_at))
        .where(DeskEvent.conversation_id.in_(ids), DeskEvent.kind.in_(TAKEN_KINDS))
        .group_by(DeskEvent.conversation_id)
    ).all()
    return {cid: at for cid, at in rows}


def _last_reply(session: Session, ids: List[int]) -> Dict[int, dt.datetime]:
    """conversation id -> when an agent last texted the customer."""
    rows = session.execute(
        select(Message.conversation_id, func.max(Message.created_at))
        .where(
            Message.conversation_id.in_(ids),
            Message.direction == "out",
            Message.author.like("agent:%"),
        )
        .group_by(Message.conversation_id)
    ).all()
    return {cid: at for cid, at in rows}


def unanswered_chats(
    session: Session, older_than: dt.timedelta, now: Optional[dt.datetime] = None
) -> List[UnansweredChat]:
    """Chats held by an agent for longer than `older_than` with no agent text since they
    got them, longest first."""
    now = now or utcnow()
    rows = session.execute(
        select(Conversation, Customer.name)
        .outerjoin(Customer, Customer.phone == Conversation.phone)
        .where(Conversation.owner == AGENT, Conversation.agent_id.isnot(None))
    ).all()
    ids = [conversation.id for conversation, _ in rows]
    if not ids:
        return []
    taken, replied = _taken_at(session, ids), _last_reply(session, ids)
    found = []
    for conversation, name in rows:
        since = taken.get(conversation.id)
        if since is None or now - since < older_than:
            continue
        last = replied.get(conversation.id)
        if last is not None and last >= since:
            continue
        agent = get_agent(session, conversation.agent_id)
        found.append(
            UnansweredChat(
                conversation.id,
                conversation.phone,
                name,
                conversation.team or "general",
                conversation.agent_id,
                agent.name if agent else "an agent",
                since,
                max(0.0, (now - since).total_seconds()),
            )
        )
    return sorted(found, key=lambda c: (c.taken_at, c.conversation_id))
