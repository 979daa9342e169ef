"""What a worker's turn costs the tracker database, read from a real Rasa server's statements
on a private PostgreSQL: a new message id is checked with one indexed query and the tracker
is read once (by Rasa's turn); a replayed message id appends nothing and gets the first
answer again, read from the tracker."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest

from bot.sms import gateway_auth
from bot.store.db import dispose_engines, session_scope
from bot.store.migrate import upgrade
from bot.store.seed import ALEX, seed
from tests.pg_statements import BIN, PrivatePostgres
from tests.sms_harness import AUTH_TOKEN, SmsSetup, post_form

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

SEEN = "type_name = 'user' AND data LIKE"  # channels/plivo.py's message id check
SESSION_START = "type_name = 'session_started'"  # the first query of every tracker read
APPEND = "INSERT INTO events"


@pytest.fixture(scope="module")
def private_postgres() -> Iterator[PrivatePostgres]:
    if BIN is None:
        pytest.skip("no PostgreSQL server binaries")
    server = PrivatePostgres().start()
    try:
        server.sql("CREATE ROLE sms LOGIN")
        server.sql("CREATE ROLE tracker LOGIN")
        server.sql("CREATE DATABASE bot OWNER sms")
        server.sql("GRANT ALL ON SCHEMA public TO tracker", database="bot")
        yield server
    finally:
        dispose_engines()
        server.stop()


def _tracker_queries(statements: List[Tuple[str, str, str, str, str]]) -> Dict[str, int]:
    """How often the Rasa server's tracker role checked a message id, read a tracker and
    appended events."""
    sqls = [" ".join(s[4].split()) for s in statements if s[2] == "tracker"]
    return {
        "message_id_checks": sum(SEEN in s for s in sqls),
        "tracker_reads": sum(SESSION_START in s for s in sqls),
        "event_inserts": sum(s.startswith(APPEND) for s in sqls),
    }


def test_a_turn_checks_its_message_id_in_one_query_and_a_replay_appends_nothing(
    private_postgres: PrivatePostgres, trained_model: Path, tmp_path: Path
) -> None:
    server = private_postgres
    url = server.url("sms")
    upgrade(url)
    with session_scope(url) as session:
        seed(session)
    rasa_env = {
        "DATABASE_URL": server.url("sms", app="rasa"),
        "TRACKER_DATABASE_URL": server.url("tracker", app="tracker"),
    }
    setup = SmsSetup(url, trained_model, tmp_path, process_env={"rasa": rasa_env}).start()

    def turn(message_id: str, text: str) -> Tuple[dict, Dict[str, int]]:
        """One signed worker call (a fresh nonce each time) and the tracker queries it ran."""
        body = json.dumps({"phone": ALEX, "text": text, "message_id": message_id}).encode()
        headers = {"Content-Type": "application/json", **gateway_auth.sign(body, AUTH_TOKEN)}
        start = server.log_size()
        status, answer = post_form(f"{setup.bot_url}/webhooks/plivo/process", body, headers)
        assert status == 200, answer
        return answer, _tracker_queries(server.statements(start))

    try:
        turn("fastpath-warm-up", "hi")  # pools, Rasa's tables, the conversation's first session
        time.sleep(0.5)
        first, fresh = turn("fastpath-1", "is there parking")
        replayed, replay = turn("fastpath-1", "is there parking")
    finally:
        setup.stop()
    print("tracker queries, new message id:", fresh, "replayed message id:", replay)
    assert "parking" in json.dumps(first["messages"]).lower()
    assert fresh["event_inserts"] >= 1  # the turn ran
    assert fresh == {**fresh, "message_id_checks": 1, "tracker_reads": 1}
    assert replayed == {"messages": first["messages"], "failed_actions": []}
    assert replay == {"message_id_checks": 1, "tracker_reads": 1, "event_inserts": 0}
