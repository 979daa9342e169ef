"""Engine and session handling for the one database everything uses."""

from __future__ import annotations

import asyncio
import functools
from concurrent.futures import Executor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, Optional, Sequence, Tuple, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

T = TypeVar("T")

_engines: Dict[Tuple[str, bool], Engine] = {}
# PostgreSQL: test a pooled connection before each transaction (a `SELECT 1` round trip,
# itself a transaction in the server). The SMS receiver and worker turn it off
# (without_pre_ping): they retry a transaction that met a dead connection instead.
_pre_ping = True
_sessionmakers: Dict[Tuple[str, bool], sessionmaker] = {}
# The database is down, restarting, or a pooled connection died with a restart: the same
# work may succeed a moment later.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
# The database of scopes and engines asked for without a URL: set once by the process's
# entry point from Settings.database_url (use_database), never read from the environment.
_process_url: Optional[str] = None


def use_database(url: str) -> None:
    """Make `url` this process's database for the helpers below called without one."""
    global _process_url
    _process_url = url


def process_database_url() -> str:
    """The URL given to use_database; an error if the entry point gave none."""
    if _process_url is None:
        raise RuntimeError(
            "no database configured: the entry point calls "
            "bot.store.db.use_database(settings.database_url) at start"
        )
    return _process_url


def _sqlite_pragmas(synchronous: str) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.close()

    return on_connect


def ensure_sqlite_directory(url: str) -> None:
    """Create the folder of an SQLite file URL (a clean checkout has no var/ yet)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def get_engine(url: Optional[str] = None, durable: bool = True) -> Engine:
    """One engine per database URL per process (created lazily, never at import).

    SQLite commits of a `durable=False` engine skip the fsync (WAL with synchronous=NORMAL:
    safe from corruption and from a crash of the process, but the last commits can be
    lost to a power cut). Only bookkeeping that recovery redoes uses it; PostgreSQL
    ignores the flag.
    """
    url = url or process_database_url()
    engine = _engines.get((url, durable))  # called per transaction: no URL parsing then
    if engine is not None:
        return engine
    parsed = make_url(url)
    sqlite = parsed.get_backend_name() == "sqlite"
    key = (url, durable or not sqlite)
    engine = _engines.get(key)
    if engine is None:
        if sqlite:
            ensure_sqlite_directory(url)
            # A pool: SQLAlchemy 1.4 otherwise opens a new connection (and runs the
            # pragmas) for every transaction on an SQLite file.
            engine = create_engine(
                url,
                future=True,
                poolclass=QueuePool,
                pool_size=8,
                max_overflow=16,
                connect_args={"timeout": 10, "check_same_thread": False},
            )
            event.listen(engine, "connect", _sqlite_pragmas("FULL" if durable else "NORMAL"))
        else:
            engine = create_engine(
                url,
                future=True,
                pool_pre_ping=_pre_ping,
                pool_recycle=1800,
                pool_size=5,
                max_overflow=10,
            )
        _engines[key] = engine
    _engines[(url, durable)] = engine
    return engine


def without_pre_ping() -> None:
    """For this process's engines created from now on (call at start-up)."""
    global _pre_ping
    _pre_ping = False


def retry_if_disconnected(fn: Callable[..., T], *args: Any) -> T:
    """Run a whole transaction `fn`; once more if it failed on a connection that had died
    in the pool (the pool drops it; nothing was committed)."""
    try:
        return fn(*args)
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
        return fn(*args)


def dispose_engines() -> None:
    for engine in set(_engines.values()):
        engine.dispose()
    _engines.clear()
    _sessionmakers.clear()


def _sessionmaker(url: Optional[str], durable: bool) -> sessionmaker:
    # sessionmaker() builds a Session subclass: made once per engine, not per transaction.
    key = (url or process_database_url(), durable)
    maker = _sessionmakers.get(key)
    if maker is None:
        maker = sessionmaker(bind=get_engine(*key), future=True, expire_on_commit=False)
        _sessionmakers[key] = maker
    return maker


@contextmanager
def session_scope(url: Optional[str] = None, durable: bool = True) -> Iterator[Session]:
    """A transaction: commit on success, roll back on error (see get_engine for `durable`)."""
    session = _sessionmaker(url, durable)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def connection_scope(url: Optional[str] = None, durable: bool = True) -> Iterator[Connection]:
    """A Core write transaction (no ORM session: a fraction of the cost) for the SMS hot
    path, whose data functions only `execute` statements and so take either. SQLite
    writers of other processes wait in SQLite's busy handler (WAL, busy_timeout 10 s)."""
    with get_engine(url, durable).begin() as connection:
        yield connection


def run_sync(fn: Callable[..., T], *args: Any, **kwargs: Any) -> "asyncio.Future[T]":
    """Run blocking data-layer work off the event loop."""
    loop = asyncio.get_running_loop()
    return loop.run_in_executor(None, functools.partial(fn, *args, **kwargs))


def run_sync_in(
    executor: Executor, fn: Callable[..., T], *args: Any, **kwargs: Any
) -> "asyncio.Future[T]":
    """Like run_sync, on a dedicated pool (so urgent work does not queue behind the rest)."""
    loop = asyncio.get_running_loop()
    return loop.run_in_executor(executor, functools.partial(fn, *args, **kwargs))


def insert_once(
    session: Session, model: Any, values: Dict[str, Any], unique: Sequence[str]
) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING on the `unique` columns (PostgreSQL or SQLite):
    False if a row with those values exists (a concurrent insert of the same key waits for
    the first and then inserts nothing)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(model).values(**values).on_conflict_do_nothing(index_elements=list(unique))
    return bool(session.execute(statement).rowcount)
