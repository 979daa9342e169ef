"""What an agent writes: SMS replies (through the outbox, so opt-out is respected),
internal notes, and how far they have read a conversation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.sms import outbox
from bot.store.events import publish
from bot.store.models import (
    AgentRead,
    Conversation,
    HandoffRequest,
    Message,
    Note,
    OutboxMessage,
    utcnow,
)
from bot.store.ownership import AGENT

MAX_REPLY_CHARS = 1600  # Plivo's limit for one message
MAX_NOTE_CHARS = 4000


class NotYourChat(Exception):
    """The conversation is not (or no longer) owned by this agent."""


@dataclass(frozen=True)
class ReplyResult:
    """The queued (or suppressed) reply."""

    outbox_id: int
    message_id: int
    status: str
    segments: int
    encoding: str

    @property
    def suppressed(self) -> bool:
        """True when the customer opted out and nothing will be sent."""
        return self.status == outbox.SUPPRESSED


def _clean(text: str, limit: int, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValueError(f"the {what} is empty")
    if len(text) > limit:
        raise ValueError(f"the {what} is longer than {limit} characters")
    return text


def send_reply(session: Session, conversation_id: int, agent_id: int, text: str) -> ReplyResult:
    """Queue the agent's SMS to the customer (only while the agent owns the conversation)."""
    text = _clean(text, MAX_REPLY_CHARS, "reply")
    conversation = session.execute(
        select(Conversation).where(Conversation.id == conversation_id).with_for_update()
    ).scalar_one_or_none()
    if conversation is None or conversation.owner != AGENT or conversation.agent_id != agent_id:
        raise NotYourChat(conversation_id)
    row = outbox.enqueue(
        session, conversation.phone, text, kind="agent", author=f"agent:{agent_id}"
    )
    if conversation.handoff_id is not None and row.status != outbox.SUPPRESSED:
        # a reply that never goes out (opted out) is no first reply
        session.execute(
            update(HandoffRequest)
            .where(
                HandoffRequest.id == conversation.handoff_id,
                HandoffRequest.first_reply_at.is_(None),
            )
            .values(first_reply_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    publish(session, "agent_reply", conversation_id, agent_id, conversation.team)
    mark_read(session, agent_id, conversation_id)
    message_id = session.execute(
        select(OutboxMessage.message_id).where(OutboxMessage.id == row.id)
    ).scalar_one()
    return ReplyResult(row.id, message_id, row.status, row.segments, row.encoding)


def add_note(session: Session, conversation_id: int, agent_id: int, text: str) -> int:
    """An internal note (never sent to the customer); returns its id."""
    text = _clean(text, MAX_NOTE_CHARS, "note")
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise LookupError(conversation_id)
    note = Note(conversation_id=conversation_id, agent_id=agent_id, text=text)
    session.add(note)
    session.flush()
    publish(session, "note", conversation_id, agent_id, conversation.team)
    return note.id


def latest_message_id(session: Session, conversation_id: int) -> int:
    """The id of the newest text of the conversation (0 if none)."""
    return int(
        session.execute(
            select(func.max(Message.id)).where(Message.conversation_id == conversation_id)
        ).scalar()
        or 0
    )


def mark_read(
    session: Session, agent_id: int, conversation_id: int, upto: Optional[int] = None
) -> int:
    """The agent has read the conversation up to `upto` (default: everything); never goes back."""
    newest = latest_message_id(session, conversation_id)
    upto = newest if upto is None else min(int(upto), newest)
    row = session.get(AgentRead, (agent_id, conversation_id), populate_existing=True)
    if row is None:
        try:
            with session.begin_nested():
                session.add(
                    AgentRead(
                        agent_id=agent_id, conversation_id=conversation_id, last_message_id=upto
                    )
                )
            return upto
        except IntegrityError:
            row = session.get(AgentRead, (agent_id, conversation_id), populate_existing=True)
    if row is not None and upto > row.last_message_id:
        row.last_message_id = upto
    return max(upto, row.last_message_id if row is not None else 0)
