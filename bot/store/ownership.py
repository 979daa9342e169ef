"""Who owns a conversation: `bot`, `queue` or `agent` (one agent). Every change is one
conditional UPDATE, so two agents or two workers can never both win a conversation."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Optional, Union

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from bot.store.conversations import conversation_id_for, get_or_create_conversation
from bot.store.events import publish
from bot.store.models import Conversation, HandoffRequest, Note, utcnow

BOT, QUEUE, AGENT = "bot", "queue", "agent"


@dataclass(frozen=True)
class Ownership:
    conversation_id: int
    phone: str
    owner: str
    agent_id: Optional[int]
    team: Optional[str]
    queued_at: Optional[dt.datetime]
    handoff_id: Optional[int]
    handback_pending: bool = False


_COLUMNS = (
    Conversation.id,
    Conversation.phone,
    Conversation.owner,
    Conversation.agent_id,
    Conversation.team,
    Conversation.queued_at,
    Conversation.handoff_id,
    Conversation.handback_pending,
)


_BY_ID = select(*_COLUMNS).where(Conversation.id == bindparam("id"))


def _view(c: Any) -> Ownership:
    """From a Conversation, or a row of _COLUMNS."""
    return Ownership(
        c.id,
        c.phone,
        c.owner,
        c.agent_id,
        c.team,
        c.queued_at,
        c.handoff_id,
        bool(c.handback_pending),
    )


def ownership_of(session: Union[Session, Connection], phone: str) -> Ownership:
    found = ownership_by_id(session, conversation_id_for(session, phone))
    assert found is not None
    return found


def ownership_by_id(
    session: Union[Session, Connection], conversation_id: int
) -> Optional[Ownership]:
    row = session.execute(_BY_ID, {"id": conversation_id}).first()
    return _view(row) if row else None


def _conditional(session: Session, conversation_id: int, condition, **values) -> bool:  # noqa: ANN001
    values.setdefault("updated_at", utcnow())
    done = session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, condition)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    return bool(done)


def hand_to_queue(
    session: Session, phone: str, reason: str, team: str, detail: Optional[str] = None
) -> Ownership:
    """The bot asks for a person. Already with the queue or an agent: nothing changes."""
    conversation = get_or_create_conversation(session, phone)
    session.flush()
    now = utcnow()
    handoff = HandoffRequest(
        phone=phone, reason=reason, team=team, detail=detail, status="open", created_at=now
    )
    session.add(handoff)
    session.flush()
    moved = _conditional(
        session,
        conversation.id,
        Conversation.owner == BOT,
        owner=QUEUE,
        agent_id=None,
        team=team,
        queued_at=now,
        handoff_id=handoff.id,
        wait_offer_sent_at=None,
    )
    if not moved:
        session.delete(handoff)  # a handoff is already under way
        session.flush()
    else:
        publish(session, "queued", conversation.id, team=team)
    return ownership_by_id(session, conversation.id)


def claim(session: Session, conversation_id: int, agent_id: int, automatic: bool = False) -> bool:
    """An agent takes a queued conversation; False if someone else was faster.
    `automatic`: the desk assigned it (an `assigned` event instead of `claimed`)."""
    if not _conditional(
        session, conversation_id, Conversation.owner == QUEUE, owner=AGENT, agent_id=agent_id
    ):
        return False
    current = ownership_by_id(session, conversation_id)
    _handoff_update(
        session,
        current,
        status="claimed",
        agent_id=agent_id,
        claimed_at=utcnow(),
        only_if_unset="claimed_at",
    )
    kind = "assigned" if automatic else "claimed"
    publish(session, kind, conversation_id, agent_id, current.team)
    return True


def transfer(
    session: Session,
    conversation_id: int,
    from_agent_id: int,
    note: Optional[str],
    to_team: Optional[str] = None,
    to_agent_id: Optional[int] = None,
) -> bool:
    """Hand a conversation to a team's queue (keeping its place) or straight to an agent."""
    if (to_team is None) == (to_agent_id is None):
        raise ValueError("transfer to a team or to an agent")
    mine = (Conversation.owner == AGENT) & (Conversation.agent_id == from_agent_id)
    if to_agent_id is not None:
        moved = _conditional(session, conversation_id, mine, agent_id=to_agent_id)
    else:
        moved = _conditional(
            session, conversation_id, mine, owner=QUEUE, agent_id=None, team=to_team
        )
    if not moved:
        return False
    current = ownership_by_id(session, conversation_id)
    if note:
        session.add(
            Note(conversation_id=conversation_id, agent_id=from_agent_id, text=f"Transfer: {note}")
        )
    if to_agent_id is not None:
        _handoff_update(session, current, agent_id=to_agent_id)
    else:
        _handoff_update(session, current, status="open", agent_id=None, team=to_team)
    publish(
        session,
        "transferred",
        conversation_id,
        to_agent_id or from_agent_id,
        current.team,
        actor_id=from_agent_id,
        from_agent_id=from_agent_id,
    )
    return True


def reassign(
    session: Session,
    conversation_id: int,
    from_agent_id: int,
    to_agent_id: int,
    by_agent_id: Optional[int] = None,
) -> bool:
    """A supervisor (`by_agent_id`) moves a chat from the agent they saw holding it to
    another agent; False if the chat is no longer that agent's (answered elsewhere,
    resolved, moved)."""
    held = (Conversation.owner == AGENT) & (Conversation.agent_id == from_agent_id)
    if not _conditional(session, conversation_id, held, agent_id=to_agent_id):
        return False
    current = ownership_by_id(session, conversation_id)
    _handoff_update(session, current, agent_id=to_agent_id)
    publish(
        session,
        "reassigned",
        conversation_id,
        to_agent_id,
        current.team,
        actor_id=by_agent_id,
        from_agent_id=from_agent_id,
    )
    return True


def resolve(
    session: Session, conversation_id: int, agent_id: int, supervisor: bool = False
) -> bool:
    """The person is done: the conversation goes back to the bot."""
    condition = Conversation.owner == AGENT
    if not supervisor:
        condition = condition & (Conversation.agent_id == agent_id)
    before = ownership_by_id(session, conversation_id)
    if not _conditional(
        session,
        conversation_id,
        condition,
        owner=BOT,
        agent_id=None,
        team=None,
        queued_at=None,
        handoff_id=None,
        handback_pending=True,
    ):
        return False
    _handoff_update(session, before, status="resolved", resolved_at=utcnow())
    publish(session, "resolved", conversation_id, agent_id, before.team if before else None)
    return True


def return_to_bot(session: Session, conversation_id: int) -> bool:
    """The customer chose to continue with the bot instead of waiting in the queue."""
    before = ownership_by_id(session, conversation_id)
    if not _conditional(
        session,
        conversation_id,
        Conversation.owner == QUEUE,
        owner=BOT,
        agent_id=None,
        team=None,
        queued_at=None,
        handoff_id=None,
    ):
        return False
    _handoff_update(session, before, status="returned", resolved_at=utcnow())
    publish(session, "returned_to_bot", conversation_id, team=before.team if before else None)
    return True


def requeue_agent_chats(session: Session, agent_id: int) -> int:
    """An agent went offline: their chats go back to the queue at their old place (head)."""
    ids = list(
        session.execute(
            select(Conversation.id).where(
                Conversation.owner == AGENT, Conversation.agent_id == agent_id
            )
        ).scalars()
    )
    moved = 0
    for conversation_id in ids:
        mine = (Conversation.owner == AGENT) & (Conversation.agent_id == agent_id)
        if _conditional(session, conversation_id, mine, owner=QUEUE, agent_id=None):
            moved += 1
            current = ownership_by_id(session, conversation_id)
            _handoff_update(session, current, status="open", agent_id=None)
            publish(session, "requeued", conversation_id, agent_id, current.team)
    return moved


def take_handback(session: Session, phone: str) -> bool:
    """True once after a person resolved the conversation (the bot is told, then it clears)."""
    return _conditional(
        session,
        conversation_id_for(session, phone),
        Conversation.handback_pending.is_(True),
        handback_pending=False,
    )


def take_handback_of(session: Union[Session, Connection], conversation_id: int) -> bool:
    """take_handback by conversation id (the SMS worker read it with its claim)."""
    return _conditional(
        session, conversation_id, Conversation.handback_pending.is_(True), handback_pending=False
    )


def restore_handback(session: Session, phone: str) -> None:
    """Undo take_handback when the assistant could not be told (it is told next time)."""
    _conditional(
        session,
        conversation_id_for(session, phone),
        Conversation.owner == BOT,
        handback_pending=True,
    )


def _handoff_update(
    session: Session,
    current: Optional[Ownership],
    only_if_unset: Optional[str] = None,
    **values: object,
) -> None:
    if current is None or current.handoff_id is None:
        return
    query = update(HandoffRequest).where(HandoffRequest.id == current.handoff_id)
    if only_if_unset:
        first = {k: v for k, v in values.items() if k == only_if_unset}
        rest = {k: v for k, v in values.items() if k != only_if_unset}
        session.execute(
            query.where(getattr(HandoffRequest, only_if_unset).is_(None))
            .values(**first)
            .execution_options(synchronize_session=False)
        )
        values = rest
    if values:
        session.execute(query.values(**values).execution_options(synchronize_session=False))
