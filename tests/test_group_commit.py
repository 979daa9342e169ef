"""Group commit (bot/sms/group_commit.py) on a real SQLite file: writes that arrive together
share a transaction, and each still gets its own answer."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from bot.sms.group_commit import GroupCommit, Refused
from bot.store.db import connection_scope, dispose_engines, session_scope


@pytest.fixture
def url(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    with connection_scope(url) as connection:
        connection.execute(text("CREATE TABLE notes (k TEXT PRIMARY KEY, v TEXT)"))
    yield url
    dispose_engines()


def rows(url: str) -> list:
    with session_scope(url) as session:
        return [tuple(r) for r in session.execute(text("SELECT k, v FROM notes ORDER BY k"))]


def insert(key: str, value: str = "x"):
    def work(connection: Connection) -> str:
        connection.execute(text("INSERT INTO notes (k, v) VALUES (:k, :v)"), {"k": key, "v": value})
        return key

    return work


def refuse_if_present(key: str):
    """Like a replayed nonce: a statement that fails on the unique key means 'refused'."""

    def work(connection: Connection) -> str:
        try:
            connection.execute(text("INSERT INTO notes (k, v) VALUES (:k, 'n')"), {"k": key})
        except IntegrityError:
            raise Refused(f"{key} seen before") from None
        return key

    return work


async def test_writes_arriving_together_share_transactions(url: str) -> None:
    writer = GroupCommit(url)
    blocker = threading.Event()

    def slow(connection: Connection) -> str:
        blocker.wait(5)  # holds the first batch open while the others queue up
        return insert("a-first")(connection)

    first = asyncio.ensure_future(writer.write(slow))
    await asyncio.sleep(0.05)
    rest = [asyncio.ensure_future(writer.write(insert(f"k{n:02d}"))) for n in range(40)]
    await asyncio.sleep(0.05)
    blocker.set()
    results = await asyncio.gather(first, *rest)
    assert results == ["a-first"] + [f"k{n:02d}" for n in range(40)]
    assert len(rows(url)) == 41
    assert writer.batches == 2  # the slow one alone, then the 40 that waited for it


async def test_a_refusal_leaves_the_rest_of_its_batch_alone(url: str) -> None:
    writer = GroupCommit(url)
    await writer.write(insert("seen"))
    blocker = threading.Event()
    first = asyncio.ensure_future(writer.write(lambda c: blocker.wait(5)))
    await asyncio.sleep(0.05)
    batch = [
        asyncio.ensure_future(writer.write(insert("before"))),
        asyncio.ensure_future(writer.write(refuse_if_present("seen"))),
        asyncio.ensure_future(writer.write(refuse_if_present("new"))),
        asyncio.ensure_future(writer.write(insert("after"))),
    ]
    await asyncio.sleep(0.05)
    blocker.set()
    await first
    outcomes = await asyncio.gather(*batch, return_exceptions=True)
    assert outcomes[0] == "before" and outcomes[2] == "new" and outcomes[3] == "after"
    assert isinstance(outcomes[1], Refused)
    assert rows(url) == [("after", "x"), ("before", "x"), ("new", "n"), ("seen", "x")]
    assert writer.batches == 3


async def test_a_failing_unit_is_rolled_back_alone_and_gets_its_error(url: str) -> None:
    writer = GroupCommit(url)
    blocker = threading.Event()
    first = asyncio.ensure_future(writer.write(lambda c: blocker.wait(5)))
    await asyncio.sleep(0.05)

    def half_then_fail(connection: Connection) -> None:
        insert("half")(connection)
        raise ValueError("bug after a write")

    batch = [
        asyncio.ensure_future(writer.write(insert("one"))),
        asyncio.ensure_future(writer.write(half_then_fail)),
        asyncio.ensure_future(writer.write(insert("two"))),
    ]
    await asyncio.sleep(0.05)
    blocker.set()
    await first
    outcomes = await asyncio.gather(*batch, return_exceptions=True)
    assert outcomes[0] == "one" and outcomes[2] == "two"
    assert isinstance(outcomes[1], ValueError)
    assert rows(url) == [("one", "x"), ("two", "x")]  # no half-written unit


async def test_when_the_database_refuses_every_write_each_writer_is_told(
    tmp_path: Path,
) -> None:
    writer = GroupCommit(f"sqlite:///{tmp_path / 'no-tables.db'}")
    results = await asyncio.gather(
        *(writer.write(insert(f"k{n}")) for n in range(3)), return_exceptions=True
    )
    assert [type(r).__name__ for r in results] == ["OperationalError"] * 3  # no such table
    assert await writer.write(lambda c: "still writing") == "still writing"
    dispose_engines()
