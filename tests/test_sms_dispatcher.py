"""The dispatcher: nudges from the gateway (one line per recorded text), and what it does
while the assistant is unreachable."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import List

import pytest
from sqlalchemy import select

from bot.sms.conversation import BotUnavailable, SmsConversations
from bot.sms.dispatcher import parse_line
from bot.sms.inbound import record_inbound
from bot.store.db import connection_scope, session_scope
from bot.store.models import Message


def test_dispatcher_nudge_lines() -> None:
    assert parse_line(b"42 +15005550001\n") == (42, "+15005550001")
    assert parse_line(b"") is None
    assert parse_line(b"x +1555\n") is None
    assert parse_line(b"42\n") is None


async def test_an_unreachable_assistant_is_retried_with_backoff_not_in_a_loop(
    database_url: str,
) -> None:
    phones = [f"+155573000{n:02d}" for n in range(3)]
    with connection_scope() as connection:
        ids = [record_inbound(connection, p, "hi", f"backoff-{p}") for p in phones]
    calls: List[str] = []

    async def assistant_down(phone: str, text: str, message_id: str, metadata: dict) -> list:
        calls.append(phone)
        raise BotUnavailable("connection refused")

    conversations = SmsConversations(assistant_down, lambda queued: None, concurrency=4)
    for message_id, phone in zip(ids, phones, strict=True):
        conversations.submit(message_id, phone)
    await conversations.drain()
    assert sorted(calls) == phones
    with session_scope() as session:
        statuses = session.execute(select(Message.status).where(Message.id.in_(ids))).scalars()
        assert set(statuses) == {"received"}  # given back, nothing lost

    assert conversations.assistant_unreachable()
    assert await conversations.resume_unfinished() == 0  # the sweep waits its turn
    await asyncio.sleep(1.2)  # then it tries again
    assert await conversations.resume_unfinished() == 3
    await conversations.drain()
    assert len(calls) == 6


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # about the process
def test_a_dispatcher_stops_promptly_while_the_assistant_is_down(
    tmp_path: Path, database_url: str
) -> None:
    """Texts keep failing; closing its stdin still stops it, and they stay queued."""
    with connection_scope() as connection:
        message_id = record_inbound(connection, "+15557300100", "hi", "stop-while-down")
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PLIVO_AUTH_ID": "MASTOPTEST0000000000",
        "PLIVO_AUTH_TOKEN": "not-a-secret",
        "PLIVO_NUMBER": "+15005550100",
        "PLIVO_API_URL": "http://127.0.0.1:9",
        "BOT_PUBLIC_URL": "http://127.0.0.1:9",
    }
    command = [sys.executable, "-m", "bot.sms.dispatcher", "--rasa-url", "http://127.0.0.1:9"]
    log = tmp_path / "dispatcher.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT, env=env
        )
    try:
        deadline = time.monotonic() + 30
        while "assistant unreachable" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "assistant unreachable" in log.read_text()
        assert proc.stdin is not None
        proc.stdin.close()  # what the gateway does when it stops
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    with session_scope() as session:
        assert session.get(Message, message_id).status == "received"


def test_the_dispatcher_yields_the_cpu_on_sqlite_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.sms.gateway import SQLITE_DISPATCHER_NICE, default_dispatcher_nice

    monkeypatch.delenv("SMS_DISPATCHER_NICE", raising=False)
    monkeypatch.setenv("DATABASE_URL", "sqlite:///var/x.db")
    assert default_dispatcher_nice() == SQLITE_DISPATCHER_NICE > 0
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    assert default_dispatcher_nice() == 0
    monkeypatch.setenv("SMS_DISPATCHER_NICE", "5")
    assert default_dispatcher_nice() == 5


async def test_the_gateway_restarts_a_dead_dispatcher_with_backoff(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A child that keeps dying at once is restarted less and less often, not in a loop."""
    from bot.sms import gateway

    monkeypatch.setattr(gateway, "SUPERVISE_SECONDS", 0.05)
    dispatcher = gateway.Dispatcher("http://127.0.0.1:9", 1)
    dispatcher.command = [sys.executable, "-c", "raise SystemExit(3)"]
    dispatcher.start()
    await asyncio.sleep(1.2)
    dispatcher.stop()
    restarts = [r for r in caplog.records if "restarting it" in r.getMessage()]
    # delays 0.05, 0.1, 0.2, 0.4, 0.8 s: four restarts in 1.2 s (24 without the backoff)
    assert 3 <= len(restarts) <= 5, [r.getMessage() for r in restarts]
    assert "exit code 3" in restarts[0].getMessage()


async def test_the_gateway_leaves_a_live_dispatcher_alone(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    from bot.sms import gateway

    monkeypatch.setattr(gateway, "SUPERVISE_SECONDS", 0.05)
    dispatcher = gateway.Dispatcher("http://127.0.0.1:9", 1)
    lines = tmp_path / "nudges.txt"
    dispatcher.command = [
        sys.executable,
        "-c",
        f"import sys, pathlib; pathlib.Path({str(lines)!r}).write_bytes(sys.stdin.buffer.read())",
    ]
    dispatcher.start()
    first = dispatcher.proc
    await asyncio.sleep(0.5)
    dispatcher.nudge(7, "+15005550001")
    started = time.monotonic()
    dispatcher.stop()  # closes its stdin: the child writes what it read and exits
    assert time.monotonic() - started < 5
    assert dispatcher.proc is first and first is not None and first.returncode == 0
    assert lines.read_text() == "7 +15005550001\n"
    assert not [r for r in caplog.records if "restarting it" in r.getMessage()]
