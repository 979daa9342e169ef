"""Inbound texts: recorded durably (unique on the provider's id) before anything else.

The `messages` table doubles as the inbound work queue (bot/sms/queue.py): a row is
`received`, claimed (on SQLite as `processing`), and ends `processed`, `failed`, `held`
or `ignored`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import List, Optional, Sequence, Union

from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from bot.settings import Settings
from bot.store.conversations import conversation_id_for
from bot.store.models import Conversation, Message, utcnow

RECEIVED, PROCESSING, PROCESSED, FAILED, IGNORED = (
    "received",
    "processing",
    "processed",
    "failed",
    "ignored",
)
HELD = "held"  # recorded for the person who owns the conversation; the bot stayed silent


@dataclass(frozen=True)
class InboundView:
    id: int
    phone: str
    text: str
    kind: str
    media: List[str]
    status: str
    intent: str = ""


_ID_BY_UUID = select(Message.id).where(Message.provider_uuid == bindparam("uuid"))
_INSERT_MESSAGE = insert(Message)
_FINISH = (
    update(Message)
    .where(Message.id == bindparam("message_id"))
    .values(status=bindparam("new_status"), error=bindparam("err"), processed_at=bindparam("at"))
    .execution_options(synchronize_session=False)
)


def is_recorded(session: Union[Session, Connection], provider_uuid: str) -> bool:
    """A text with this provider id (MessageUUID) is in `messages`."""
    return session.execute(_ID_BY_UUID, {"uuid": provider_uuid}).first() is not None


def record_inbound(
    session: Union[Session, Connection],
    phone: str,
    text: str,
    provider_uuid: str,
    kind: str = "sms",
    media: Sequence[str] = (),
    intent: str = "",
) -> Optional[int]:
    """Store an inbound text; None if this provider id was recorded before (a retry).

    Two copies of one text racing each other: one of them fails on the unique index and
    its webhook is answered 503 (Plivo retries it, and then finds the duplicate).
    """
    if is_recorded(session, provider_uuid):
        return None
    result = session.execute(
        _INSERT_MESSAGE,
        {
            "conversation_id": conversation_id_for(session, phone),
            "direction": "in",
            "author": "customer",
            "text": text,
            "provider_uuid": provider_uuid,
            "kind": kind,
            "media": json.dumps(list(media)) if media else None,
            "provider_intent": intent[:10] or None,
            "status": RECEIVED,
            "created_at": utcnow(),
        },
    )
    return int(result.inserted_primary_key[0])


# PostgreSQL: nonce, conversation, message and the workers' wake-up (delivered at commit)
# in one statement (one round trip instead of six to nine: what an acknowledgement waits
# for on a busy machine). No row back means a repeated MessageUUID or a first text racing
# another from the same new phone: the caller rolls back and takes the general path,
# which tells the two apart.
_RECORD_IN_ONE_STATEMENT = text(
    """
    WITH nonce AS (
        INSERT INTO webhook_nonces (nonce, seen_at) VALUES (:nonce, :now) RETURNING 1
    ), existing AS (
        SELECT id FROM conversations WHERE phone = :phone
    ), created AS (
        INSERT INTO conversations (phone, owner, handback_pending, created_at, updated_at)
        SELECT :phone, 'bot', false, :now, :now WHERE NOT EXISTS (SELECT 1 FROM existing)
        ON CONFLICT (phone) DO NOTHING
        RETURNING id
    ), conversation AS (
        SELECT id FROM existing UNION ALL SELECT id FROM created
    ), inserted AS (
        INSERT INTO messages (conversation_id, direction, author, text, provider_uuid, kind,
                              media, provider_intent, status, created_at)
        SELECT conversation.id, 'in', 'customer', :text, :uuid, :kind, :media, :intent,
               :status, :now
        FROM conversation, nonce
        ON CONFLICT (provider_uuid) DO NOTHING
        RETURNING id
    )
    SELECT id, pg_notify('sms_inbound', id::text) FROM inserted
    """
)


def record_inbound_in_one_statement(
    connection: Connection,
    nonce: str,
    phone: str,
    text: str,
    provider_uuid: str,
    kind: str = "sms",
    media: Sequence[str] = (),
    intent: str = "",
) -> Optional[int]:
    """PostgreSQL only: the new message's id, or None (see _RECORD_IN_ONE_STATEMENT).
    A replayed nonce raises IntegrityError on the webhook_nonces table."""
    params = {
        "nonce": nonce[:128],
        "now": utcnow(),
        "phone": phone,
        "text": text,
        "uuid": provider_uuid,
        "kind": kind,
        "media": json.dumps(list(media)) if media else None,
        "intent": intent[:10] or None,
        "status": RECEIVED,
    }
    row = connection.execute(_RECORD_IN_ONE_STATEMENT, params).first()
    return int(row[0]) if row else None


def claim_lease(settings: Settings) -> dt.timedelta:
    """SQLite: a text `processing` for longer than this was left by a worker that died."""
    return dt.timedelta(seconds=settings.inbound_claim_lease_seconds)


_INBOUND_BY_ID = (
    select(
        Message.id,
        Conversation.phone,
        Message.text,
        Message.kind,
        Message.media,
        Message.status,
        Message.provider_intent,
    )
    .join(Conversation, Conversation.id == Message.conversation_id)
    .where(Message.id == bindparam("message_id"))
)


def get_inbound(session: Union[Session, Connection], message_id: int) -> Optional[InboundView]:
    row = session.execute(_INBOUND_BY_ID, {"message_id": message_id}).first()
    if row is None:
        return None
    media = json.loads(row.media) if row.media else []
    return InboundView(
        row.id, row.phone, row.text, row.kind, media, row.status, row.provider_intent or ""
    )


def finish_inbound(
    session: Union[Session, Connection], message_id: int, status: str, error: Optional[str] = None
) -> None:
    params = {"message_id": message_id, "new_status": status, "err": error, "at": utcnow()}
    session.execute(_FINISH, params)


def release_inbound(
    session: Union[Session, Connection], message_id: int, claimed_at: Optional[dt.datetime]
) -> None:
    """SQLite: give a claimed text back to the queue (the assistant was unreachable)."""
    session.execute(
        update(Message)
        .where(
            Message.id == message_id,
            Message.status == PROCESSING,
            Message.claimed_at == claimed_at,
        )
        .values(status=RECEIVED, claimed_at=None)
        .execution_options(synchronize_session=False)
    )
