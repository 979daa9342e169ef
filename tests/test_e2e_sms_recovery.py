"""The SMS path survives a crash right after the ack, and runs on PostgreSQL."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.db import session_scope
from bot.launcher import IN_MEMORY_LOCKS, redis_locks
from bot.models import Message
from bot.seed import ALEX
from tests.sms_harness import SmsSetup, inbound_params

pytestmark = pytest.mark.slow


def test_killing_the_bot_right_after_the_ack_loses_nothing(
    database_url: str, trained_model: Path, tmp_path: Path
) -> None:
    setup = SmsSetup(database_url, trained_model, tmp_path).start()
    try:
        phones = [f"+1555700{i:04d}" for i in range(12)]
        for phone in phones:  # acked one by one, then the process dies at once
            assert setup.signed_webhook(inbound_params(phone, "hi"))[0] == 200
        setup.kill_bot()
        with session_scope(database_url) as session:
            unfinished = session.execute(
                select(Message.id).where(
                    Message.direction == "in", Message.status.in_(["received", "processing"])
                )
            ).all()
        answered_before = sum(1 for p in phones if setup.sent(p))
        assert unfinished, "the kill came too late to prove anything"
        assert answered_before < len(phones)
        setup.start_bot()
        for phone in phones:
            assert setup.wait_replies(phone, 1, timeout=60)[0].startswith("Hi!")
        time.sleep(2)
        assert all(len(setup.sent(p)) == 1 for p in phones)  # and nothing twice
    finally:
        setup.stop()


def test_sms_round_trip(database_url: str, trained_model: Path, tmp_path: Path) -> None:
    """SQLite with in-memory locks (local), PostgreSQL with Redis locks (production)."""
    locks = IN_MEMORY_LOCKS
    if database_url.startswith("postgresql"):
        locks = redis_locks(prefix=f"test{uuid.uuid4().hex[:8]}")
    setup = SmsSetup(database_url, trained_model, tmp_path, lock_store=locks).start()
    try:
        reply = setup.ask(ALEX, "ORDER A1001")
        assert "A1001 has shipped with UPS" in reply
        params = inbound_params(ALEX, "is there parking")
        assert setup.signed_webhook(params)[0] == 200
        assert setup.signed_webhook(params) == (200, {"status": "duplicate"})
        assert "parking" in setup.wait_replies(ALEX, 2)[1].lower()
        time.sleep(1)
        assert len(setup.sent(ALEX)) == 2
    finally:
        setup.stop()
