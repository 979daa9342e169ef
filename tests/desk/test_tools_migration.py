"""Migration 0009 on a database that holds the old canned replies (SQLite and PostgreSQL):
{customer} becomes {first_name}, the rows stay, and the way back restores them."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, text

from bot.store.migrate import alembic_config
from tests.test_migrations import empty_database  # noqa: F401

OLD = "Hi {customer}, this is {agent}. 100% on it_now"
NEW = "Hi {first_name}, this is {agent}. 100% on it_now"


def test_canned_replies_get_the_first_name_placeholder(empty_database: str) -> None:  # noqa: F811
    config = alembic_config(empty_database)
    command.upgrade(config, "0008")
    engine = create_engine(empty_database, future=True)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO canned_replies (id, title, text, team) VALUES (1, 'G', :t, NULL)"
                ),
                {"t": OLD},
            )
            conn.execute(
                text("INSERT INTO canned_replies (id, title, text, team) VALUES (2, 'P', :t, 'x')"),
                {"t": "Plain text"},
            )
        command.upgrade(config, "0009_tools_canned_replies")
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT id, text, deleted_at, updated_by FROM canned_replies ORDER BY id")
            ).all()
        assert [tuple(r) for r in rows] == [(1, NEW, None, None), (2, "Plain text", None, None)]
        command.downgrade(config, "0008")
        with engine.connect() as conn:
            texts = conn.execute(text("SELECT text FROM canned_replies ORDER BY id")).scalars()
            assert list(texts) == [OLD, "Plain text"]
    finally:
        engine.dispose()
