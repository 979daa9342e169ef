"""SQLite: inbound texts recorded by one writer thread, the texts that arrive together in
one durable transaction (group commit), so a burst costs one commit (one fsync) per batch
instead of one per text.

Each text is three prebuilt statements on the DB-API cursor (no SQL compiled per text):
its signature nonce, its conversation (created on first contact) and the message itself.
A replayed nonce writes nothing for that text; a repeated MessageUUID (Plivo's retry)
writes only its nonce and gives None, as the general path does. Plivo gets its 200 only
after the commit. PostgreSQL takes bot/sms/plivo_front_door.py's one-statement path.
"""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import sqlite3
import threading
from typing import Any, List, Optional, Sequence, Tuple, Union

from sqlalchemy.engine import Engine

from bot.sms.inbound import RECEIVED
from bot.sms.plivo_webhook import InboundSms, ReplayedNonce
from bot.store.db import DATABASE_UNAVAILABLE
from bot.store.models import utcnow

logger = logging.getLogger(__name__)

Outcome = Union[int, None, Exception]  # the message id, None for a duplicate, or an error

_NONCE = "INSERT INTO webhook_nonces (nonce, seen_at) VALUES (?, ?) ON CONFLICT (nonce) DO NOTHING"
_CONVERSATION = (
    "INSERT INTO conversations (phone, owner, handback_pending, created_at, updated_at) "
    "VALUES (?, 'bot', 0, ?, ?) ON CONFLICT (phone) DO NOTHING"
)
_MESSAGE = (
    "INSERT INTO messages (conversation_id, direction, author, text, provider_uuid, kind, "
    "media, provider_intent, status, created_at) "
    "SELECT id, 'in', 'customer', ?, ?, ?, ?, ?, ?, ? FROM conversations WHERE phone = ? "
    "ON CONFLICT (provider_uuid) DO NOTHING RETURNING id"
)
MAX_BATCH = 256
# The DB-API's own errors (the raw cursor) and SQLAlchemy's (the pool's connect).
_UNAVAILABLE = (sqlite3.OperationalError, sqlite3.InterfaceError, *DATABASE_UNAVAILABLE)


def _sqlite_time() -> str:
    """Now as SQLAlchemy stores a DateTime on SQLite (microseconds always written)."""
    return utcnow().strftime("%Y-%m-%d %H:%M:%S.%f")


def _record_one(cursor: Any, sms: InboundSms, nonce: str, now: str) -> Optional[int]:
    cursor.execute(_NONCE, (nonce[:128], now))
    if cursor.rowcount == 0:
        raise ReplayedNonce()
    cursor.execute(_CONVERSATION, (sms.phone, now, now))
    media = json.dumps(list(sms.media)) if sms.media else None
    cursor.execute(
        _MESSAGE,
        (sms.text, sms.uuid, sms.kind, media, sms.intent[:10] or None, RECEIVED, now, sms.phone),
    )
    row = cursor.fetchone()
    return int(row[0]) if row else None


def record_batch(engine: Engine, texts: Sequence[Tuple[InboundSms, str]]) -> List[Outcome]:
    """Record (text, nonce) pairs in one transaction; one outcome per pair (a replayed
    nonce: ReplayedNonce). Raises if the transaction itself failed (nothing written)."""
    now = _sqlite_time()
    connection = engine.raw_connection()  # pooled; the SQLite pragmas were set at connect
    try:
        cursor = connection.cursor()
        outcomes: List[Outcome] = []
        for sms, nonce in texts:
            try:
                outcomes.append(_record_one(cursor, sms, nonce, now))
            except ReplayedNonce as replay:
                outcomes.append(replay)
        cursor.close()
        connection.commit()
        return outcomes
    except BaseException:
        connection.rollback()
        raise
    finally:
        connection.close()


def record_each(engine: Engine, texts: Sequence[Tuple[InboundSms, str]]) -> List[Outcome]:
    """One transaction for all; if a text made it fail, one each, so that one fails alone.
    A database that cannot be written (locked, unreadable) fails them all at once: trying
    each alone would wait out the busy timeout once per text."""
    try:
        return record_batch(engine, texts)
    except _UNAVAILABLE as error:
        return [error] * len(texts)
    except Exception as error:  # noqa: BLE001 - handed to the waiting webhooks
        if len(texts) == 1:
            return [error]
    outcomes: List[Outcome] = []
    for text in texts:
        try:
            outcomes.extend(record_batch(engine, [text]))
        except Exception as error:  # noqa: BLE001
            outcomes.append(error)
    return outcomes


_Pending = Tuple[InboundSms, str, asyncio.AbstractEventLoop, "asyncio.Future[Optional[int]]"]


def _settle(done: List[Tuple["asyncio.Future[Optional[int]]", Outcome]]) -> None:
    for future, outcome in done:
        if future.done():  # the webhook's client went away
            continue
        if isinstance(outcome, Exception):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)


class InboundWriter:
    """The receiver's one SQLite writer thread (started on first use, or by start())."""

    def __init__(self, engine: Engine, max_batch: int = MAX_BATCH) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self._queue: "queue.SimpleQueue[Optional[_Pending]]" = queue.SimpleQueue()
        self._thread: Optional[threading.Thread] = None
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="inbound-writer", daemon=True
                )
                self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Record what is queued, then end the thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)

    async def record(self, sms: InboundSms, nonce: str) -> Optional[int]:
        """The new message's id, None for a repeated MessageUUID; raises ReplayedNonce, or
        the database's error (nothing was written for this text)."""
        if self._thread is None:
            self.start()
        loop = asyncio.get_running_loop()
        future: "asyncio.Future[Optional[int]]" = loop.create_future()
        self._queue.put((sms, nonce, loop, future))
        return await future

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stopping = False
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            self._write(batch)
            if stopping:
                return

    def _write(self, batch: List[_Pending]) -> None:
        try:
            outcomes = record_each(self.engine, [(sms, nonce) for sms, nonce, _, _ in batch])
        except BaseException as error:  # noqa: BLE001 - never leave a webhook waiting
            logger.exception("inbound writer failed")
            outcomes = [error if isinstance(error, Exception) else RuntimeError(str(error))] * len(
                batch
            )
        by_loop: dict = {}
        for (_, _, loop, future), outcome in zip(batch, outcomes, strict=True):
            by_loop.setdefault(loop, []).append((future, outcome))
        for loop, done in by_loop.items():
            try:
                loop.call_soon_threadsafe(_settle, done)
            except RuntimeError:  # that loop has closed: nobody waits any more
                pass
