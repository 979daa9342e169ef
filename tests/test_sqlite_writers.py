"""SQLite writers of every process take turns (bot.store.db.connection_scope), and Rasa's
trackers live in a file of their own."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import text

from bot.settings import tracker_database_url
from bot.store.db import connection_scope, dispose_engines, get_engine

HOLD_SECONDS = 0.5

# Holds a write turn on the database for HOLD_SECONDS, printing when it has it.
_HOLDER = f"""
import sys, time
from sqlalchemy import text
from bot.store.db import connection_scope
with connection_scope(sys.argv[1]) as connection:
    connection.execute(text("INSERT INTO turns (who, at) VALUES ('other process', :at)"),
                       {{"at": time.time()}})
    print("holding", flush=True)
    time.sleep({HOLD_SECONDS})
"""


def _table(url: str) -> None:
    with connection_scope(url) as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS turns (who TEXT, at REAL)"))


def test_a_writer_in_another_process_is_waited_for_not_raced(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    _table(url)
    with subprocess.Popen(
        [sys.executable, "-c", _HOLDER, url], stdout=subprocess.PIPE, text=True
    ) as holder:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        asked = time.monotonic()
        with connection_scope(url) as connection:
            waited = time.monotonic() - asked
            connection.execute(
                text("INSERT INTO turns (who, at) VALUES ('this process', :at)"),
                {"at": time.time()},
            )
        assert holder.wait(timeout=10) == 0
    # It got its turn when the other process finished (not a busy-handler sleep later).
    assert HOLD_SECONDS * 0.5 < waited < HOLD_SECONDS + 0.25
    with get_engine(url).connect() as connection:
        order = connection.execute(text("SELECT who FROM turns ORDER BY at")).scalars().all()
    assert order == ["other process", "this process"]
    assert (tmp_path / "bot.db-writers.lock").exists()
    dispose_engines()


def test_threads_of_one_process_take_turns_too(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    _table(url)
    spans = []

    def write(name: str) -> None:
        with connection_scope(url) as connection:
            started = time.monotonic()
            connection.execute(text("INSERT INTO turns (who, at) VALUES (:w, 0)"), {"w": name})
            time.sleep(0.05)
            spans.append((started, time.monotonic()))

    threads = [threading.Thread(target=write, args=(f"t{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    spans.sort()
    assert len(spans) == 6
    assert all(
        end <= next_start for (_, end), (next_start, _) in zip(spans, spans[1:], strict=False)
    )
    dispose_engines()


def test_trackers_get_a_file_beside_an_sqlite_database(monkeypatch) -> None:
    monkeypatch.delenv("TRACKER_DATABASE_URL", raising=False)
    monkeypatch.setenv("DATABASE_URL", "sqlite:////srv/sms/bot.db")
    assert tracker_database_url() == "sqlite:////srv/sms/bot-tracker.db"
    monkeypatch.setenv("DATABASE_URL", "postgresql://bot@db:5432/sms")
    assert tracker_database_url() == "postgresql://bot@db:5432/sms"
    monkeypatch.setenv("TRACKER_DATABASE_URL", "sqlite:////elsewhere/t.db")
    assert tracker_database_url() == "sqlite:////elsewhere/t.db"
