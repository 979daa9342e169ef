"""The SMS receiver on SQLite (the embedded default), over HTTP: texts that arrive together
are committed together, each still recorded once, replays refused and retries answered
"duplicate"; its listen backlog is the setting; an unwritable database answers 503."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterator, List, Tuple
from urllib.parse import urlencode

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.launcher import child_env, free_port, wait_http
from bot.settings import PROJECT_ROOT
from bot.store.db import dispose_engines, session_scope
from bot.store.migrate import upgrade
from bot.store.models import Conversation, Message, WebhookNonce
from devtools.plivo_standin.signing import NONCE_HEADER, sign_request

TOKEN = "receiver-test-token"
BUSINESS = "+15005550100"
BACKLOG = 777


class Receiver:
    def __init__(self, url: str, database_url: str, proc: subprocess.Popen) -> None:
        self.url = url
        self.webhook = f"{url}/webhooks/plivo/webhook"
        self.database_url = database_url
        self.proc = proc

    def signed(self, phone: str, uuid: str, nonce: str = "") -> Tuple[bytes, Dict[str, str]]:
        params = {"From": phone.lstrip("+"), "To": BUSINESS, "Text": "hi", "MessageUUID": uuid}
        headers = sign_request(self.webhook, params, TOKEN, nonce=nonce or None)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        return urlencode(params).encode(), headers


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Receiver]:
    database_url = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(database_url)
    port = free_port()
    env = child_env(
        {
            "DATABASE_URL": database_url,
            "PLIVO_AUTH_ID": "MARECEIVERTEST000000",
            "PLIVO_AUTH_TOKEN": TOKEN,
            "PLIVO_NUMBER": BUSINESS,
            "PLIVO_API_URL": "http://127.0.0.1:9",  # nothing is sent here
            "BOT_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "SMS_RECEIVER_BACKLOG": str(BACKLOG),
        }
    )
    with open(tmp_path / "receiver.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.sms.receiver", "--port", str(port)],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/webhooks/plivo/", timeout=60, proc=proc)
        yield Receiver(url, database_url, proc)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        dispose_engines()


async def post_all(webhook: str, posts: List[Tuple[bytes, Dict[str, str]]]) -> List[tuple]:
    """All at once; (status, body) of each, in order."""
    async with aiohttp.ClientSession() as session:

        async def post(body: bytes, headers: Dict[str, str]) -> tuple:
            async with session.post(webhook, data=body, headers=headers) as answer:
                return answer.status, await answer.text()

        return await asyncio.gather(*(post(body, headers) for body, headers in posts))


def test_a_burst_is_recorded_once_each_with_replays_and_retries_told_apart(
    receiver: Receiver,
) -> None:
    posts = [receiver.signed(f"+1555740{i:04d}", f"burst-{i}") for i in range(120)]
    replayed_nonce = posts[5][1][NONCE_HEADER]
    posts.append(receiver.signed("+15557409998", "burst-replay", nonce=replayed_nonce))
    posts.append(receiver.signed("+15557400007", "burst-7"))  # Plivo's retry, new nonce
    posts.append(receiver.signed("+15557409999", "burst-x"))  # a second text, same phone:
    posts.append(receiver.signed("+15557409999", "burst-y"))  # one conversation
    answers = asyncio.run(post_all(receiver.webhook, posts))
    statuses = [status for status, _ in answers]
    # The replay is refused whichever of the two arrived first; the other is recorded.
    replay_pair = [answers[5], answers[120]]
    assert sorted(s for s, _ in replay_pair) == [200, 403]
    ok = [a for i, a in enumerate(answers) if i not in (5, 120)]
    assert all(status == 200 for status, _ in ok), statuses
    bodies = [body for _, body in answers[:120] + answers[121:]]
    assert sum('"duplicate"' in b for b in bodies) == 1  # the original or the retry
    with session_scope(receiver.database_url) as session:
        uuids = session.execute(select(Message.provider_uuid)).scalars().all()
        same_phone = session.execute(
            select(func.count())
            .select_from(Conversation)
            .where(Conversation.phone == "+15557409999")
        ).scalar_one()
        nonces = session.execute(select(func.count()).select_from(WebhookNonce)).scalar_one()
        statuses_in_db = set(session.execute(select(Message.status)).scalars())
    expected = {f"burst-{i}" for i in range(120)} | {"burst-x", "burst-y"}
    recorded_replay = "burst-replay" if answers[120][0] == 200 else None
    assert sorted(uuids) == sorted(expected | ({recorded_replay} - {None}))
    assert same_phone == 1 and statuses_in_db == {"received"}
    assert nonces == len(posts) - 1  # every nonce but the refused one's


def test_the_listen_backlog_is_the_setting(receiver: Receiver) -> None:
    port = receiver.url.rsplit(":", 1)[1]
    listing = subprocess.run(
        ["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True, check=True
    ).stdout.split()
    # ss -lt: Recv-Q (waiting connections) then Send-Q, which is the backlog.
    assert listing[2] == str(min(BACKLOG, int(Path("/proc/sys/net/core/somaxconn").read_text())))


def test_an_unwritable_database_answers_503_and_loses_nothing_later(
    receiver: Receiver, tmp_path: Path
) -> None:
    # Another connection holds SQLite's write lock for longer than the busy timeout (10 s).
    holder = sqlite3.connect(str(tmp_path / "bot.db"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        body, headers = receiver.signed("+15557410001", "locked-1")
        [(status, text)] = asyncio.run(post_all(receiver.webhook, [(body, headers)]))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert status == 503 and "temporarily unavailable" in text
    # Plivo's retry (a new nonce) is then recorded.
    [(status, text)] = asyncio.run(
        post_all(receiver.webhook, [receiver.signed("+15557410001", "locked-1")])
    )
    assert (status, '"received"' in text) == (200, True)
    assert "plivo webhook could not be recorded" in (tmp_path / "receiver.log").read_text()
