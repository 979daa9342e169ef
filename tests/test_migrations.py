"""Migrations run forward over a database that already holds data, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Iterator

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from bot.store.db import dispose_engines
from bot.store.migrate import alembic_config


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # noqa: ANN001
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        dispose_engines()
        return
    from tests.conftest import POSTGRES_ADMIN_URL

    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", future=True)
    name = f"sms_bot_migrate_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(False)
    finally:
        dispose_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_upgrade_keeps_existing_rows(empty_database: str) -> None:
    config = alembic_config(empty_database)
    command.upgrade(config, "0001")
    engine = create_engine(empty_database, future=True)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO customers (id, phone, name, opted_out, created_at) "
                "VALUES (1, '+15005550001', 'Alex', false, CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO conversations (id, phone, created_at, updated_at) "
                "VALUES (1, '+15005550001', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO messages (id, conversation_id, direction, author, text, "
                "created_at) VALUES (1, 1, 'in', 'customer', 'hi', CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO handoff_requests (phone, reason, team, status, "
                "created_at) VALUES ('+15005550001', 'asked', 'general', 'open', "
                "CURRENT_TIMESTAMP)"
            )
        )
    engine.dispose()
    dispose_engines()
    command.upgrade(alembic_config(empty_database), "head")
    engine = create_engine(empty_database, future=True)
    with engine.connect() as conn:
        owner = conn.execute(text("SELECT owner, handback_pending FROM conversations")).one()
        message = conn.execute(text("SELECT text, status, kind FROM messages")).one()
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert tuple(owner) in (("bot", False), ("bot", 0))
    assert tuple(message) == ("hi", "processed", "sms")
    assert {"outbox", "agents", "desk_events", "delivery_reports", "webhook_nonces"} <= tables
    assert "outbound_texts" in tables


def test_head_matches_the_models(empty_database: str) -> None:
    """The migrated schema is what bot/store/models.py declares (columns, indexes,
    constraints), e.g. outbound_texts and customers.timezone."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from bot.store.models import Base

    command.upgrade(alembic_config(empty_database), "head")
    engine = create_engine(empty_database, future=True)
    try:
        with engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            columns = {c["name"] for c in inspect(conn).get_columns("customers")}
            unique = inspect(conn).get_unique_constraints("outbound_texts")
    finally:
        engine.dispose()
    assert differences == []
    assert "timezone" in columns
    assert [u["column_names"] for u in unique] == [["kind", "idempotency_key"]]


def test_supervisors_start_without_automatic_assignment(empty_database: str) -> None:
    command.upgrade(alembic_config(empty_database), "0007")
    engine = create_engine(empty_database, future=True)
    with engine.begin() as conn:
        for username, role in (("ann", "agent"), ("sue", "supervisor")):
            conn.execute(
                text(
                    "INSERT INTO agents (username, name, password_hash, role, teams, capacity, "
                    "status, active, created_at) VALUES (:u, :u, 'x', :r, 'general', 10, "
                    "'offline', true, CURRENT_TIMESTAMP)"
                ),
                {"u": username, "r": role},
            )
    engine.dispose()
    dispose_engines()
    command.upgrade(alembic_config(empty_database), "head")
    engine = create_engine(empty_database, future=True)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT username, auto_assign FROM agents")).all()
    engine.dispose()
    assert {username: bool(value) for username, value in rows} == {"ann": True, "sue": False}


def test_the_maintenance_heartbeat_table_comes_and_goes(empty_database: str) -> None:
    """0015 adds desk_maintenance (the loop's beat) and its downgrade drops it again."""
    config = alembic_config(empty_database)
    command.upgrade(config, "0015_desk_maintenance_heartbeat")
    engine = create_engine(empty_database, future=True)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO desk_maintenance (name, beat_at, host, pid) "
                "VALUES ('desk', CURRENT_TIMESTAMP, 'box', 42)"
            )
        )
    assert "desk_maintenance" in inspect(engine).get_table_names()
    engine.dispose()
    dispose_engines()
    command.downgrade(config, "0014_notify_api_requests")
    engine = create_engine(empty_database, future=True)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert "desk_maintenance" not in tables and "notification_requests" in tables
