"""The inbound queue: `messages` rows with direction 'in', claimed per conversation in order.

A text may be claimed only when it is its conversation's oldest unfinished text, so no
two texts of one conversation are ever in hand at once and none overtakes an older one.

- PostgreSQL: the claim is a row lock (`FOR UPDATE OF m SKIP LOCKED`) in a transaction
  the worker holds for the whole turn; the text stays `received` until that transaction
  marks it done. A worker that dies drops its connection, the lock goes with it and the
  text is claimed again. No lease, no `processing` status.
- SQLite (one worker process): a conditional UPDATE to `processing` with a lease, in a short
  transaction of its own (SQLite has one writer per file; the receiver writes meanwhile).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, List, Optional

from sqlalchemy import text
from sqlalchemy.engine import Connection

from bot.store.models import utcnow
from bot.store.ownership import Ownership

NOTIFY_CHANNEL = "sms_inbound"


@dataclass(frozen=True)
class ClaimedText:
    """An inbound text in hand, with what the intake needs about its conversation."""

    id: int
    phone: str
    text: str
    kind: str
    media: List[str]
    intent: str
    uuid: str
    opted_out: bool
    ownership: Ownership
    claimed_at: Optional[dt.datetime] = None  # SQLite: the claim's token (lease fencing)


_COLUMNS = """
    m.id, c.phone, m.text, m.kind, m.media, m.provider_intent, m.provider_uuid, m.claimed_at,
    coalesce(cu.opted_out, false) AS opted_out,
    c.id AS conversation_id, c.owner, c.agent_id, c.team, c.queued_at, c.handoff_id,
    c.handback_pending
"""
_JOINS = """
    FROM messages m
    JOIN conversations c ON c.id = m.conversation_id
    LEFT JOIN customers cu ON cu.phone = c.phone
"""

# The oldest received text of a conversation nobody holds. A held text is locked and
# skipped; its later texts fail `m.id = min(...)` because the held one is still `received`
# (it only leaves that status in the transaction that holds it). Served by the partial
# indexes ix_messages_inbound_waiting (by id) and ix_messages_inbound_queue (per
# conversation): 0.1 ms with 190k finished texts (88 ms walking the primary key).
_CLAIM_POSTGRES = text(
    f"""
    SELECT {_COLUMNS} {_JOINS}
    WHERE m.direction = 'in' AND m.status = 'received'
      AND m.id = (SELECT min(q.id) FROM messages q
                  WHERE q.conversation_id = m.conversation_id
                    AND q.direction = 'in' AND q.status = 'received')
    ORDER BY m.id
    LIMIT 1
    FOR UPDATE OF m SKIP LOCKED
    """
)

# SQLite: a conversation's oldest unfinished text, if it is received or its claim expired.
_OLDEST_UNFINISHED = """
    SELECT m.id FROM messages m
    WHERE m.direction = 'in' AND m.status IN ('received', 'processing')
      AND (m.status = 'received' OR m.claimed_at < :expired_before)
      AND m.id = (SELECT min(q.id) FROM messages q
                  WHERE q.conversation_id = m.conversation_id
                    AND q.direction = 'in' AND q.status IN ('received', 'processing'))
    ORDER BY m.id
    LIMIT 1
"""
_CANDIDATE_SQLITE = text(_OLDEST_UNFINISHED)
_CLAIM_SQLITE = text(
    f"""
    UPDATE messages SET status = 'processing', claimed_at = :now
    WHERE id = ({_OLDEST_UNFINISHED})
    RETURNING id
    """
)
_BY_ID = text(f"SELECT {_COLUMNS} {_JOINS} WHERE m.id = :id")


def _claimed(row: Any) -> ClaimedText:
    ownership = Ownership(
        row.conversation_id,
        row.phone,
        row.owner,
        row.agent_id,
        row.team,
        row.queued_at,
        row.handoff_id,
        bool(row.handback_pending),
    )
    return ClaimedText(
        row.id,
        row.phone,
        row.text,
        row.kind,
        json.loads(row.media) if row.media else [],
        row.provider_intent or "",
        row.provider_uuid or str(row.id),
        bool(row.opted_out),
        ownership,
    )


def _with_token(claimed: ClaimedText, claimed_at: dt.datetime) -> ClaimedText:
    return dataclasses.replace(claimed, claimed_at=claimed_at)


def claim_postgres(connection: Connection) -> Optional[ClaimedText]:
    """Lock the next claimable text (PostgreSQL); held until the transaction ends."""
    row = connection.execute(_CLAIM_POSTGRES).first()
    return _claimed(row) if row else None


def has_candidate_sqlite(connection: Connection, lease: dt.timedelta) -> bool:
    """A claimable text exists (read only: an idle poll takes no write lock)."""
    params = {"expired_before": utcnow() - lease}
    return connection.execute(_CANDIDATE_SQLITE, params).first() is not None


def claim_sqlite(connection: Connection, lease: dt.timedelta) -> Optional[ClaimedText]:
    """Mark the next claimable text `processing` (SQLite); commit at once."""
    now = utcnow()
    params = {"now": now, "expired_before": now - lease}
    row = connection.execute(_CLAIM_SQLITE, params).first()
    if row is None:
        return None
    return _with_token(_claimed(connection.execute(_BY_ID, {"id": row[0]}).first()), now)


_FINISH_HELD = text(
    """
    UPDATE messages SET status = :status, error = :error, processed_at = :now
    WHERE id = :id AND status = 'processing' AND claimed_at = :claimed_at
    """
)


class LostClaim(Exception):
    """SQLite: the text's lease expired and another claim took it; this turn is void."""


def finish_held(
    connection: Connection, message: ClaimedText, status: str, error: Optional[str]
) -> None:
    """SQLite: the final status, only while this claim still holds the text."""
    params = {
        "status": status,
        "error": error,
        "now": utcnow(),
        "id": message.id,
        "claimed_at": message.claimed_at,
    }
    if not connection.execute(_FINISH_HELD, params).rowcount:
        raise LostClaim(f"message {message.id}: claim expired and was taken over")


_NOTIFY = text("SELECT pg_notify('sms_inbound', :payload)")


def notify(connection: Connection, message_id: int) -> None:
    """Wake the listening workers when this transaction commits (PostgreSQL)."""
    connection.execute(_NOTIFY, {"payload": str(message_id)})
