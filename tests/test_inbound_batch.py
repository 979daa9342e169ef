"""SQLite's group commit (bot/sms/inbound_batch.py) on a real database: the outcomes of a
batch, one bad text failing alone, and a locked database failing the batch at once."""

from __future__ import annotations

import dataclasses
import sqlite3
import time
from typing import Iterator

import pytest
from sqlalchemy import select

from bot.sms.inbound_batch import record_each
from bot.sms.plivo_webhook import InboundSms, ReplayedNonce
from bot.store.db import dispose_engines, get_engine, session_scope, use_database
from bot.store.migrate import upgrade
from bot.store.models import Conversation, Message, utcnow
from tests.conftest import _reset

SMS = InboundSms(
    phone="+15557500001", to="+15005550100", text="hi", kind="sms", uuid="b-1", intent=""
)


@pytest.fixture
def sqlite_db(sqlite_url: str) -> Iterator[str]:
    upgrade(sqlite_url)
    _reset(sqlite_url)
    use_database(sqlite_url)
    yield sqlite_url
    dispose_engines()


def test_a_batch_gives_each_text_its_outcome(sqlite_db: str) -> None:
    mms = dataclasses.replace(
        SMS, uuid="b-2", kind="mms", media=["https://m.example/1.jpg"], intent="HELP"
    )
    texts = [
        (SMS, "n-1"),
        (mms, "n-2"),
        (dataclasses.replace(SMS, uuid="b-3"), "n-1"),  # replayed nonce: nothing written
        (SMS, "n-4"),  # Plivo's retry of b-1
    ]
    outcomes = record_each(get_engine(), texts)
    assert isinstance(outcomes[0], int) and isinstance(outcomes[1], int)
    assert isinstance(outcomes[2], ReplayedNonce) and outcomes[3] is None
    with session_scope() as session:
        rows = session.execute(
            select(Message.provider_uuid, Message.kind, Message.media, Message.provider_intent)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Conversation.phone == SMS.phone)
            .order_by(Message.id)
        ).all()
        created = session.execute(
            select(Conversation.created_at).where(Conversation.phone == SMS.phone)
        ).scalar_one()
    assert rows == [
        ("b-1", "sms", None, None),
        ("b-2", "mms", '["https://m.example/1.jpg"]', "HELP"),
    ]
    # Written as SQLAlchemy writes a DateTime, so the ORM reads it back as one.
    assert abs((utcnow() - created).total_seconds()) < 60


def test_one_bad_text_fails_alone(sqlite_db: str) -> None:
    bad = dataclasses.replace(SMS, phone=None, uuid="b-bad")  # type: ignore[arg-type]
    good = dataclasses.replace(SMS, phone="+15557500002", uuid="b-good")
    outcomes = record_each(get_engine(), [(good, "g-1"), (bad, "g-2")])
    assert isinstance(outcomes[0], int)
    assert isinstance(outcomes[1], sqlite3.IntegrityError)


def test_a_locked_database_fails_the_batch_once(sqlite_db: str) -> None:
    holder = sqlite3.connect(sqlite_db[len("sqlite:///") :], isolation_level=None)
    holder.execute("PRAGMA busy_timeout=0")
    holder.execute("BEGIN IMMEDIATE")
    engine = get_engine()
    try:
        with engine.connect() as connection:  # a short wait, so the test is quick
            connection.exec_driver_sql("PRAGMA busy_timeout=300")
        started = time.monotonic()
        texts = [(dataclasses.replace(SMS, uuid=f"l-{i}"), f"l-{i}") for i in range(10)]
        outcomes = record_each(engine, texts)
        took = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert all(isinstance(o, sqlite3.OperationalError) for o in outcomes)
    assert took < 1.5  # one wait of the busy timeout (0.3 s), not one per text (3.3 s)
