"""First human reply: from a handoff being queued to the first agent text of that stretch
that actually left (the outbox's `sent_at`; a reply held back because the customer opted
out, or still waiting to be sent, is no reply). The supervisor's figures for today and the
per-agent table both count it this way."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Dict, List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.models import HandoffRequest, Message, OutboxMessage


@dataclass(frozen=True)
class FirstReply:
    """One handoff's first agent text that was sent."""

    agent_id: int
    queued_at: dt.datetime
    sent_at: dt.datetime

    @property
    def seconds(self) -> float:
        return max(0.0, (self.sent_at - self.queued_at).total_seconds())


def agent_of(author: str) -> Optional[int]:
    """`agent:7` -> 7; None for any other author."""
    prefix, _, number = author.partition(":")
    return int(number) if prefix == "agent" and number.isdigit() else None


def first_replies(session: Session, start: dt.datetime, end: dt.datetime) -> List[FirstReply]:
    """The first sent agent text of each handoff queued in [start, end) (handoffs nobody
    has answered yet are left out)."""
    handoffs = session.execute(
        select(HandoffRequest.phone, HandoffRequest.created_at, HandoffRequest.resolved_at)
        .where(HandoffRequest.created_at >= start, HandoffRequest.created_at < end)
        .order_by(HandoffRequest.created_at)
    ).all()
    if not handoffs:
        return []
    sent = session.execute(
        select(OutboxMessage.phone, Message.created_at, OutboxMessage.sent_at, Message.author)
        .join(Message, Message.id == OutboxMessage.message_id)
        .where(
            OutboxMessage.kind == "agent",
            OutboxMessage.sent_at.isnot(None),
            OutboxMessage.phone.in_({h.phone for h in handoffs}),
            Message.created_at >= start,
        )
        .order_by(Message.created_at, Message.id)
    ).all()
    by_phone: Dict[str, list] = {}
    for row in sent:
        by_phone.setdefault(row.phone, []).append(row)
    result: List[FirstReply] = []
    for phone, queued_at, resolved_at in handoffs:
        for row in by_phone.get(phone, []):
            if row.created_at < queued_at:
                continue
            if resolved_at is not None and row.created_at > resolved_at:
                break
            agent_id = agent_of(row.author)
            if agent_id is not None:
                result.append(FirstReply(agent_id, queued_at, row.sent_at))
            break
    return result
