"""First names: read from the full name, kept with it, filled for existing rows by 0005."""

from __future__ import annotations

from typing import Optional

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from bot.store.customers import first_name_for_phone, get_or_create_customer
from bot.store.db import dispose_engines, session_scope
from bot.store.migrate import alembic_config
from bot.store.seed import ALEX, JORDAN, PRIYA, SAM
from bot.text.names import first_name_of
from tests.test_migrations import empty_database  # noqa: F401 - the fixture


@pytest.mark.parametrize(
    "name, first",
    [
        ("Alex Rivera", "Alex"),
        ("  priya   patel ", "Priya"),
        ("DR. SAM LEE", "Sam"),
        ("Mrs Jordan Kim", "Jordan"),
        ("McKenzie Ross", "McKenzie"),
        ("Zoë", "Zoë"),
        ("Mr.", None),
        ("1234", None),
        ("", None),
        (None, None),
    ],
)
def test_first_name_of(name: Optional[str], first: Optional[str]) -> None:
    assert first_name_of(name) == first


def test_seeded_customers_have_first_names(database_url: str) -> None:
    with session_scope() as session:
        names = {phone: first_name_for_phone(session, phone) for phone in (ALEX, SAM, PRIYA)}
        assert names == {ALEX: "Alex", SAM: "Sam", PRIYA: "Priya"}
        assert first_name_for_phone(session, JORDAN) == "Jordan"
        assert first_name_for_phone(session, "+15005550999") is None
        assert first_name_for_phone(session, None) is None


def test_setting_a_name_sets_the_first_name(database_url: str) -> None:
    with session_scope() as session:
        customer = get_or_create_customer(session, "+15005550777")
        assert customer.first_name is None
        customer.name = "casey fox"
    with session_scope() as session:
        assert first_name_for_phone(session, "+15005550777") == "Casey"
        get_or_create_customer(session, "+15005550777").name = None
    with session_scope() as session:
        assert first_name_for_phone(session, "+15005550777") is None


def test_migration_fills_first_names_of_existing_customers(empty_database: str) -> None:  # noqa: F811
    command.upgrade(alembic_config(empty_database), "0004")
    engine = create_engine(empty_database, future=True)
    with engine.begin() as conn:
        for row_id, phone, name in [
            (1, "+15005550001", "Alex Rivera"),
            (2, "+15005550002", "DR. SAM LEE"),
            (3, "+15005550003", None),
            (4, "+15005550004", "   "),
        ]:
            conn.execute(
                text(
                    "INSERT INTO customers (id, phone, name, opted_out, created_at) "
                    "VALUES (:id, :phone, :name, false, CURRENT_TIMESTAMP)"
                ),
                {"id": row_id, "phone": phone, "name": name},
            )
    engine.dispose()
    dispose_engines()
    command.upgrade(alembic_config(empty_database), "head")
    engine = create_engine(empty_database, future=True)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, name, first_name FROM customers ORDER BY id")).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [
        (1, "Alex Rivera", "Alex"),
        (2, "DR. SAM LEE", "Sam"),
        (3, None, None),
        (4, "   ", None),
    ]
    command.downgrade(alembic_config(empty_database), "0004")
    dispose_engines()
