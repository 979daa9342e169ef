"""Engine and session handling for the one database everything uses."""

from __future__ import annotations

import asyncio
import functools
from concurrent.futures import Executor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, Optional, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from bot.settings import get_settings

T = TypeVar("T")

_engines: Dict[str, Engine] = {}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def get_engine(url: Optional[str] = None) -> Engine:
    """One engine per database URL per process (created lazily, never at import)."""
    url = url or get_settings().database_url
    engine = _engines.get(url)
    if engine is None:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            if parsed.database:
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, future=True, connect_args={"timeout": 10})
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(
                url, future=True, pool_pre_ping=True, pool_size=5, max_overflow=10
            )
        _engines[url] = engine
    return engine


def dispose_engines() -> None:
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


@contextmanager
def session_scope(url: Optional[str] = None) -> Iterator[Session]:
    """A transaction: commit on success, roll back on error."""
    session = sessionmaker(bind=get_engine(url), future=True, expire_on_commit=False)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


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
