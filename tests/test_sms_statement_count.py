"""On PostgreSQL the SMS bookkeeping of one inbound text takes <= 3 transactions and <= 12
statements (receiver + worker + sender; not Rasa's tracker queries, which run under a role
of their own, nor delivery reports), counted in the server's statement log."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Iterator

import pytest

from bot.store.db import dispose_engines, session_scope
from bot.store.migrate import upgrade
from bot.store.seed import seed
from tests.pg_statements import BIN, PrivatePostgres, count
from tests.sms_harness import SmsSetup

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
TEXTS = 10


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


def test_one_text_takes_at_most_3_transactions_and_12_statements(
    private_postgres: PrivatePostgres, trained_model: Path, tmp_path: Path
) -> None:
    server = private_postgres
    url = server.url("sms")
    upgrade(url)
    with session_scope(url) as session:
        seed(session)

    def as_app(app: str) -> dict:
        return {"DATABASE_URL": server.url("sms", app=app)}

    rasa_env = {**as_app("rasa"), "TRACKER_DATABASE_URL": server.url("tracker", app="tracker")}
    setup = SmsSetup(
        url,
        trained_model,
        tmp_path,
        process_env={
            "receiver": as_app("receiver"),
            "worker": as_app("worker"),
            "actions": as_app("actions"),
            "rasa": rasa_env,
        },
    ).start()
    try:
        for i in range(2):  # warm-up: pools, Rasa's tables, the first conversation
            setup.ask(f"+1555800000{i}", "is there parking")
        time.sleep(1.5)
        start = server.log_size()
        phones = [f"+155581000{i:02d}" for i in range(TEXTS)]
        for phone in phones:
            assert "parking" in setup.ask(phone, "is there parking").lower()
        time.sleep(1.5)  # the last send's bookkeeping
        statements = server.statements(start)
    finally:
        setup.stop()
    sms = count(statements, ("receiver", "worker"))
    rasa_nonces = count(statements, ("tracker",))
    report = {
        "texts": TEXTS,
        "transactions_per_text": sms.transactions / TEXTS,
        "statements_per_text": sms.statements / TEXTS,
        "pre_ping_select_1_per_text": sms.pings / TEXTS,
        "by_process": {app: v for app, v in sms.by_app.items()},
        "excluded": {
            "idle_polls": sms.idle_polls,
            "delivery_report_transactions": sms.delivery_reports,
            "connection_setup_statements": sms.connection_setup,
        },
        "tracker_role_transactions_per_text": rasa_nonces.transactions / TEXTS,
    }
    print("SMS bookkeeping on PostgreSQL:", json.dumps(report, indent=1))
    (tmp_path / "statement_count.json").write_text(json.dumps(report, indent=1))
    (tmp_path / "statements.json").write_text(json.dumps(statements, indent=0))
    assert sms.transactions <= 3 * TEXTS
    assert sms.statements + sms.pings <= 12 * TEXTS
