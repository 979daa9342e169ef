"""A texter who writes while waiting in the queue (nobody assigned yet) hears that the
text arrived and where they stand, at most once per window per conversation."""

from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import and_, func, or_, select

from bot.store.models import Conversation, OutboxMessage, utcnow
from bot.store.ownership import QUEUE, Ownership

KIND = "reassure"  # the outbox row's kind


def reassurance_text(position: int) -> str:
    """One SMS segment."""
    return (
        f"Thanks, we've got your message. You're #{position} in line; "
        "a person will text you here soon."
    )


def position_of(session, current: Ownership) -> int:  # noqa: ANN001 - Session or Connection
    """1 for the next in line of its team (as bot.desk.routing.queue_position)."""
    ahead = session.execute(
        select(func.count())
        .select_from(Conversation)
        .where(
            Conversation.owner == QUEUE,
            Conversation.team == current.team,
            or_(
                Conversation.queued_at < current.queued_at,
                and_(
                    Conversation.queued_at == current.queued_at,
                    Conversation.id < current.conversation_id,
                ),
            ),
        )
    ).scalar()
    return int(ahead or 0) + 1


def reassurance(
    session,  # noqa: ANN001 - Session or Connection
    current: Ownership,
    window: dt.timedelta,
    now: Optional[dt.datetime] = None,
) -> Optional[str]:
    """The text to send for a queued conversation, or None (not queued, assigned, or
    reassured within `window`)."""
    if current.owner != QUEUE or current.agent_id is not None or current.queued_at is None:
        return None
    since = (now or utcnow()) - window
    recent = session.execute(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.phone == current.phone,
            OutboxMessage.kind == KIND,
            OutboxMessage.created_at > since,
        )
        .limit(1)
    ).first()
    if recent is not None:
        return None
    return reassurance_text(position_of(session, current))
