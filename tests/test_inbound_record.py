"""Recording an inbound text (what Plivo's 200 waits for), on SQLite and PostgreSQL
(which takes a one-statement path first)."""

from __future__ import annotations

import dataclasses
import threading

import pytest
from sqlalchemy import select

from bot.sms.plivo_front_door import _record
from bot.sms.plivo_webhook import InboundSms, WebhookError
from bot.store.db import session_scope
from bot.store.models import Conversation, Message

SMS = InboundSms(
    phone="+15557300001", to="+15005550100", text="hi", kind="sms", uuid="u-1", intent=""
)


def messages_of(phone: str) -> list:
    with session_scope() as session:
        return session.execute(
            select(Message.provider_uuid, Message.text, Message.status)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Conversation.phone == phone)
            .order_by(Message.id)
        ).all()


def test_record_dedupes_and_refuses_replayed_nonces(database_url: str) -> None:
    first = _record(SMS, "nonce-1")
    assert isinstance(first, int)
    assert _record(SMS, "nonce-2") is None  # Plivo's retry of the same text
    with pytest.raises(WebhookError):
        _record(dataclasses.replace(SMS, uuid="u-2"), "nonce-1")  # replayed signature
    with pytest.raises(WebhookError):
        _record(dataclasses.replace(SMS, uuid="u-3"), "nonce-2")  # the retry's nonce is kept
    media = dataclasses.replace(SMS, uuid="u-4", kind="mms", media=["https://m.example/1.jpg"])
    assert isinstance(_record(media, "nonce-4"), int)
    assert messages_of(SMS.phone) == [("u-1", "hi", "received"), ("u-4", "hi", "received")]


def test_first_texts_of_a_new_phone_racing_each_other(database_url: str) -> None:
    phone = "+15557300002"
    results: dict = {}

    def text(n: int) -> None:
        sms = dataclasses.replace(SMS, phone=phone, uuid=f"race-{n}", text=f"t{n}")
        results[n] = _record(sms, f"race-nonce-{n}")

    threads = [threading.Thread(target=text, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(isinstance(v, int) for v in results.values()) and len(results) == 8
    assert sorted(uuid for uuid, _, _ in messages_of(phone)) == sorted(
        f"race-{n}" for n in range(8)
    )
    with session_scope() as session:
        count = session.execute(select(Conversation.id).where(Conversation.phone == phone)).all()
    assert len(count) == 1
