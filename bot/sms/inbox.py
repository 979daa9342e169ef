"""On SQLite, the webhook receiver's own file of inbound texts (`bot-inbox.db`).

SQLite lets one connection of one process write to a file at a time, so when inbound texts
went straight into `bot.db`, an acknowledgement waited for whatever the dispatcher was
writing there (and for that process to be scheduled again if it was preempted while
writing): that was the acknowledgement latency's tail under load. The receiver now records
each text (and its signature nonce) durably in a file only it writes, answers Plivo, and
nudges the dispatcher, which copies new texts into `messages` (deduplicated on the
MessageUUID) and moves its cursor (`inbox_progress`) in the same transaction, then
processes them. A crash anywhere between loses nothing: uncopied texts are copied by the
next sweep, and a text copied twice is recognised by its MessageUUID.

Nothing else writes the inbox: every few seconds the receiver itself prunes the texts
the dispatcher has copied (a retry of one is then recognised in `messages`) and nonces
past their replay window, since a lower-priority process holding the file's write turn
would make acknowledgements wait. PostgreSQL has no inbox (concurrent writers do not
wait for each other there).
"""

from __future__ import annotations

import json
import threading
from typing import Any, List, Optional, Set, Tuple

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    delete,
    event,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from bot.sms.inbound import is_recorded, record_inbound
from bot.sms.plivo_webhook import NONCE_TTL, InboundSms, ReplayedNonce
from bot.store.db import connection_scope, get_engine
from bot.store.models import InboxProgress, utcnow

PROGRESS_NAME = "inbox"
WAL_PAGES = 100

_metadata = MetaData()
inbox_texts = Table(
    "inbox_texts",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("provider_uuid", String(64), nullable=False, unique=True),
    Column("phone", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("kind", String(10), nullable=False),
    Column("media", Text),
    Column("intent", String(10)),
    Column("received_at", DateTime, nullable=False),
)
inbox_nonces = Table(
    "inbox_nonces",
    _metadata,
    Column("nonce", String(128), primary_key=True),
    Column("seen_at", DateTime, nullable=False),
)
# IF NOT EXISTS: the receiver and the dispatcher may both get here first. AUTOINCREMENT:
# ids are never reused after pruning, so the cursor never skips a text.
_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS inbox_texts (
        id INTEGER PRIMARY KEY AUTOINCREMENT, provider_uuid VARCHAR(64) NOT NULL UNIQUE,
        phone VARCHAR(16) NOT NULL, text TEXT NOT NULL, kind VARCHAR(10) NOT NULL,
        media TEXT, intent VARCHAR(10), received_at DATETIME NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS inbox_nonces (
        nonce VARCHAR(128) PRIMARY KEY, seen_at DATETIME NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS ix_inbox_nonces_seen_at ON inbox_nonces (seen_at)",
)
_ready: Set[str] = set()
_ready_lock = threading.Lock()


def _small_wal(dbapi_connection: Any, _record: Any) -> None:
    # Checkpoint every 100 pages instead of 1000: the log is then reused (not grown) after a
    # few seconds, and an fsync of a file that does not grow needs no ext4 journal commit,
    # which would wait for the other files' pending writes (commits of 50-110 ms otherwise).
    dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={WAL_PAGES}")


def ensure_inbox(url: str) -> None:
    """Create the inbox file's tables (once per process, before its first connection)."""
    with _ready_lock:
        for durable in (True, False):  # engines are made anew after dispose_engines()
            engine = get_engine(url, durable)
            if not event.contains(engine, "connect", _small_wal):
                event.listen(engine, "connect", _small_wal)
        if url in _ready:
            return
        with connection_scope(url) as connection:
            for statement in _SCHEMA:
                connection.execute(text(statement))
        _ready.add(url)


_UUID_SEEN = select(inbox_texts.c.id).where(inbox_texts.c.provider_uuid == bindparam("uuid"))
_INSERT_NONCE = insert(inbox_nonces)
_INSERT_TEXT = insert(inbox_texts)


def record_text(connection: Connection, sms: InboundSms, nonce: str) -> Optional[int]:
    """Nonce and text into the inbox; the text's inbox id, or None for a MessageUUID
    recorded before (Plivo's retry). Raises ReplayedNonce before writing anything."""
    try:
        connection.execute(_INSERT_NONCE, {"nonce": nonce[:128], "seen_at": utcnow()})
    except IntegrityError:
        raise ReplayedNonce() from None
    if connection.execute(_UUID_SEEN, {"uuid": sms.uuid}).first() is not None:
        return None
    with get_engine().connect() as messages:  # copied and pruned already (a read: no wait)
        if is_recorded(messages, sms.uuid):
            return None
    row = {
        "provider_uuid": sms.uuid,
        "phone": sms.phone,
        "text": sms.text,
        "kind": sms.kind,
        "media": json.dumps(list(sms.media)) if sms.media else None,
        "intent": sms.intent[:10] or None,
        "received_at": utcnow(),
    }
    return int(connection.execute(_INSERT_TEXT, row).inserted_primary_key[0])


_PROGRESS = select(InboxProgress.last_id).where(InboxProgress.name == PROGRESS_NAME)
_MOVE_PROGRESS = (
    InboxProgress.__table__.update()
    .where(InboxProgress.name == PROGRESS_NAME)
    .values(last_id=bindparam("last_id"))
)
_NEWER_TEXTS = (
    select(inbox_texts)
    .where(inbox_texts.c.id > bindparam("after"))
    .order_by(inbox_texts.c.id)
    .limit(bindparam("limit"))
)


def _progress(connection: Connection) -> int:
    return connection.execute(_PROGRESS).scalar_one_or_none() or 0


def copy_new_texts(url: str, limit: int = 500) -> List[Tuple[int, str]]:
    """Copy texts recorded since the last copy into `messages`; (message id, phone) of each
    new one, oldest first. Safe to run from two places at once (the cursor is re-read
    inside the write transaction, and MessageUUIDs are unique)."""
    ensure_inbox(url)
    with get_engine().connect() as reader:
        done = _progress(reader)
    with get_engine(url).connect() as inbox:
        rows = inbox.execute(_NEWER_TEXTS, {"after": done, "limit": limit}).all()
    if not rows:
        return []
    copied: List[Tuple[int, str]] = []
    with connection_scope(durable=False) as connection:  # a lost copy is redone from the inbox
        done = _progress(connection)
        for row in rows:
            if row.id <= done:
                continue
            media = json.loads(row.media) if row.media else ()
            intent = row.intent or ""
            message_id = record_inbound(
                connection, row.phone, row.text, row.provider_uuid, row.kind, media, intent
            )
            if message_id is not None:
                copied.append((message_id, row.phone))
        _move_progress(connection, max(done, rows[-1].id))
    return copied


def _move_progress(connection: Connection, last_id: int) -> None:
    changed = connection.execute(_MOVE_PROGRESS, {"last_id": last_id}).rowcount
    if not changed:
        connection.execute(
            insert(InboxProgress.__table__), {"name": PROGRESS_NAME, "last_id": last_id}
        )


def prune_copied(connection: Connection) -> int:
    """Forget copied texts (`messages` has them) and nonces past their replay window; run
    by the receiver on its inbox connection."""
    with get_engine().connect() as reader:
        done = _progress(reader)
    removed = connection.execute(delete(inbox_texts).where(inbox_texts.c.id <= done)).rowcount
    too_old = inbox_nonces.c.seen_at < utcnow() - NONCE_TTL
    connection.execute(delete(inbox_nonces).where(too_old))
    return removed


def uncopied_count(url: str) -> int:
    """Texts recorded but not yet copied into `messages` (health checks, tests)."""
    ensure_inbox(url)
    with get_engine().connect() as reader:
        done = _progress(reader)
    with get_engine(url).connect() as inbox:
        newer = select(func.count()).select_from(inbox_texts).where(inbox_texts.c.id > done)
        return int(inbox.execute(newer).scalar_one())
