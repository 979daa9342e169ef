"""The SMS receiver's inbox file on SQLite (bot/sms/inbox.py): recorded by the receiver,
copied into `messages` by the dispatcher exactly once, pruned without losing a text."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from bot.settings import inbox_database_url
from bot.sms import inbox
from bot.sms.inbound import record_inbound
from bot.sms.plivo_webhook import InboundSms, ReplayedNonce
from bot.store.db import connection_scope, session_scope
from bot.store.models import Conversation, Message

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

SMS = InboundSms(
    phone="+15557400001", to="+15005550100", text="hi", kind="sms", uuid="in-1", intent=""
)


def record(sms: InboundSms, nonce: str):
    with connection_scope(inbox_database_url()) as connection:
        return inbox.record_text(connection, sms, nonce)


def prune(url: str) -> int:
    with connection_scope(url, durable=False) as connection:  # as the receiver does
        return inbox.prune_copied(connection)


def texts_in_messages() -> list:
    with session_scope() as session:
        return session.execute(
            select(Conversation.phone, Message.text, Message.provider_uuid, Message.status)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Message.direction == "in")
            .order_by(Message.id)
        ).all()


def test_recorded_texts_are_copied_once_in_arrival_order(database_url: str) -> None:
    url = inbox_database_url()
    other = dataclasses.replace(SMS, phone="+15557400002", uuid="in-2", text="order A1001")
    mms = dataclasses.replace(
        SMS, uuid="in-3", kind="mms", media=["https://m.example/1.jpg"], intent="help"
    )
    ids = [record(SMS, "n1"), record(other, "n2"), record(mms, "n3")]
    assert ids == sorted(ids) and all(isinstance(i, int) for i in ids)
    assert inbox.uncopied_count(url) == 3

    copied = inbox.copy_new_texts(url)
    assert [phone for _, phone in copied] == [SMS.phone, other.phone, SMS.phone]
    assert inbox.copy_new_texts(url) == []  # the cursor moved with the copy
    assert inbox.uncopied_count(url) == 0
    assert texts_in_messages() == [
        (SMS.phone, "hi", "in-1", "received"),
        (other.phone, "order A1001", "in-2", "received"),
        (SMS.phone, "hi", "in-3", "received"),
    ]
    with session_scope() as session:
        row = session.execute(select(Message).where(Message.provider_uuid == "in-3")).scalar_one()
        assert (row.kind, row.provider_intent) == ("mms", "help")
        assert "https://m.example/1.jpg" in row.media


def test_retries_and_replays_are_told_apart(database_url: str) -> None:
    assert isinstance(record(SMS, "n1"), int)
    assert record(SMS, "n2") is None  # Plivo's retry: a new nonce, the same MessageUUID
    with pytest.raises(ReplayedNonce):
        record(dataclasses.replace(SMS, uuid="in-9"), "n1")  # a replayed signature
    with pytest.raises(ReplayedNonce):
        record(dataclasses.replace(SMS, uuid="in-9"), "n2")  # the retry's nonce is kept too
    url = inbox_database_url()
    inbox.copy_new_texts(url)
    prune(url)
    assert record(SMS, "n3") is None  # copied and pruned: recognised in `messages`
    assert inbox.copy_new_texts(url) == []
    assert [uuid for _, _, uuid, _ in texts_in_messages()] == ["in-1"]


def test_pruning_never_makes_the_cursor_skip_a_text(database_url: str) -> None:
    url = inbox_database_url()
    record(SMS, "n1")
    record(dataclasses.replace(SMS, uuid="in-2"), "n2")
    assert len(inbox.copy_new_texts(url)) == 2
    assert prune(url) == 2  # the inbox is empty now
    newer = record(dataclasses.replace(SMS, uuid="in-3"), "n3")
    assert newer is not None and newer > 2  # ids are not reused after the pruning
    assert [phone for _, phone in inbox.copy_new_texts(url)] == [SMS.phone]
    assert [uuid for _, _, uuid, _ in texts_in_messages()] == ["in-1", "in-2", "in-3"]


def test_a_text_already_in_messages_is_not_copied_twice(database_url: str) -> None:
    """Two copiers at once (or a copy redone after a crash) find the MessageUUID taken."""
    url = inbox_database_url()
    record(SMS, "n1")
    with connection_scope() as connection:  # as if another copy got there first
        record_inbound(connection, SMS.phone, SMS.text, SMS.uuid)
    assert inbox.copy_new_texts(url) == []
    assert len(texts_in_messages()) == 1
    assert inbox.uncopied_count(url) == 0


def test_the_inbox_reuses_a_small_write_ahead_log(database_url: str) -> None:
    url = inbox_database_url()
    record(SMS, "n1")
    with connection_scope(url) as connection:
        pages = connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
    assert pages == inbox.WAL_PAGES
