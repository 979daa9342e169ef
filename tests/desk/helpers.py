"""Creating desk situations directly in the database (as the bot would)."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import uuid
from typing import Iterator, Optional

from bot.desk.maintenance_beat import LOOP_INTERVAL_SECONDS, record_beat
from bot.sms import inbound, outbox
from bot.store.db import session_scope
from bot.store.models import Conversation, DeskMaintenanceBeat, Message, OutboxMessage
from bot.store.ownership import Ownership, hand_to_queue, ownership_by_id


def customer_texts(url: str, phone: str, text: str, status: str = inbound.PROCESSED) -> int:
    """Record an inbound text (as the SMS connector does); returns the message id."""
    with session_scope(url) as session:
        message_id = inbound.record_inbound(session, phone, text, str(uuid.uuid4()))
        inbound.finish_inbound(session, message_id, status)
        return message_id


def queue_chat(
    url: str,
    phone: str,
    text: str = "I need a person",
    reason: str = "asked",
    team: str = "general",
    detail: Optional[str] = None,
) -> Ownership:
    """A customer text followed by a handoff to a team's queue."""
    customer_texts(url, phone, text)
    with session_scope(url) as session:
        return hand_to_queue(session, phone, reason, team, detail)


@contextlib.contextmanager
def maintenance_beating(url: str) -> Iterator[None]:
    """Beat as a console's maintenance loop would (every loop interval) while inside, for a
    stack whose console runs no loop; on leaving, no loop has beaten (the row is gone)."""
    done = threading.Event()

    def beat() -> None:
        while True:
            with session_scope(url) as session:
                record_beat(session)
            if done.wait(LOOP_INTERVAL_SECONDS):
                return

    with session_scope(url) as session:
        record_beat(session)
    beater = threading.Thread(target=beat, daemon=True)
    beater.start()
    try:
        yield
    finally:
        done.set()
        beater.join()
        with session_scope(url) as session:
            session.query(DeskMaintenanceBeat).delete()


def owner_of(url: str, conversation_id: int) -> Ownership:
    with session_scope(url) as session:
        found = ownership_by_id(session, conversation_id)
        assert found is not None
        return found


def conversation_id_for(url: str, phone: str) -> int:
    with session_scope(url) as session:
        return session.query(Conversation.id).filter(Conversation.phone == phone).scalar()


def outbox_sends(url: str, phone: str) -> int:
    """Plivo accepts the phone's queued texts, as the SMS worker records it; returns how many."""
    with session_scope(url) as session:
        rows = session.query(OutboxMessage.id).filter_by(phone=phone, status=outbox.QUEUED).all()
        for (row_id,) in rows:
            outbox.mark_sent(session, row_id, str(uuid.uuid4()))
        return len(rows)


def agent_text_at(
    session,  # noqa: ANN001
    phone: str,
    agent_id: int,
    written_at: dt.datetime,
    sent_at: Optional[dt.datetime],
    status: str = "sent",
) -> None:
    """An agent's text to `phone` (whose conversation exists) written at `written_at`,
    accepted by Plivo at `sent_at` (None: still queued)."""
    conversation = session.query(Conversation).filter_by(phone=phone).one()
    message = Message(
        conversation_id=conversation.id,
        direction="out",
        author=f"agent:{agent_id}",
        text="hello",
        status="out",
        created_at=written_at,
    )
    session.add(message)
    session.flush()
    session.add(
        OutboxMessage(
            message_id=message.id,
            phone=phone,
            text="hello",
            kind="agent",
            encoding="GSM-7",
            segments=1,
            status=status if sent_at else outbox.QUEUED,
            created_at=written_at,
            sent_at=sent_at,
        )
    )
