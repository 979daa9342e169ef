"""Fixtures: a real database (SQLite file and PostgreSQL), migrated and seeded."""

from __future__ import annotations

import os
import uuid
from typing import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.store.db import dispose_engines, session_scope, use_database
from bot.store.migrate import upgrade
from bot.store.seed import seed

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
# The desk is open around the clock in tests (closed hours are tested explicitly).
os.environ.setdefault("BUSINESS_HOURS", "00:00-24:00")
os.environ.setdefault("BUSINESS_DAYS", "mon,tue,wed,thu,fri,sat,sun")

# The server's admin database; each test session creates (and drops) its own database.
POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", future=True)
    name = f"sms_bot_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_ADMIN_URL).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        dispose_engines()
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def _fresh_sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'bot.db'}"


def _reset(url: str) -> None:
    """Empty the bot's tables (keeps the schema) so each test starts from the seed."""
    from bot.store.models import Base

    with session_scope(url) as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(table.delete())
        seed(session)


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _fresh_sqlite_url(tmp_path_factory)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A migrated, freshly seeded database; DATABASE_URL points at it for the test, and it
    is the database of session_scope() without a URL (as an entry point would set it)."""
    if request.param == "sqlite":
        url = request.getfixturevalue("sqlite_url")
    else:
        url = request.getfixturevalue("postgres_url")
    upgrade(url)
    _reset(url)
    monkeypatch.setenv("DATABASE_URL", url)
    use_database(url)
    yield url
    dispose_engines()


@pytest.fixture(autouse=True)
def fresh_action_settings() -> Iterator[None]:
    """The action server reads its settings once per process; each test is a new 'process'
    whose environment (e.g. monkeypatched variables) is read on first use."""
    from actions.settings import action_settings

    action_settings.cache_clear()
    yield
    action_settings.cache_clear()


def _model_inputs_newest_mtime() -> float:
    from bot.settings import PROJECT_ROOT

    files = [PROJECT_ROOT / "config.yml", PROJECT_ROOT / "domain.yml"]
    # not model inputs (the Makefile leaves them out too): read live / by `make check`
    live = {
        PROJECT_ROOT / "data" / "faq_answers.yml",
        PROJECT_ROOT / "data" / "checks.yml",
        PROJECT_ROOT / "data" / "notifications.yml",
    }
    for folder in ("data", "bot/rasa_ext/nlu"):
        files += [p for p in (PROJECT_ROOT / folder).rglob("*") if p.is_file() and p not in live]
    return max(p.stat().st_mtime for p in files)


@pytest.fixture(scope="session")
def trained_model():
    """The model `make train` builds; (re)trained here if missing or older than its inputs."""
    import subprocess

    from bot.launcher import DEFAULT_MODEL, RASA, child_env
    from bot.settings import PROJECT_ROOT

    stale = not DEFAULT_MODEL.exists() or (
        DEFAULT_MODEL.stat().st_mtime < _model_inputs_newest_mtime()
    )
    if stale:
        subprocess.run(
            [RASA, "train", "--fixed-model-name", "sms-bot", "--out", "models"],
            cwd=PROJECT_ROOT,
            env=child_env(),
            check=True,
            capture_output=True,
        )
        DEFAULT_MODEL.touch()
    return DEFAULT_MODEL
