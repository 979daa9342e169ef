"""Running data-layer functions in a transaction, off the event loop."""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from sanic import Sanic
from sqlalchemy.orm import Session

from bot.store.db import run_sync, session_scope

T = TypeVar("T")


def _call(url: str, fn: Callable[..., T], args: tuple, kwargs: dict) -> T:
    with session_scope(url) as session:
        return fn(session, *args, **kwargs)


async def in_db(app: Sanic, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`fn(session, *args, **kwargs)` in one transaction on the app's database, in a thread."""
    return await run_sync(_call, app.ctx.settings.database_url, fn, args, kwargs)


__all__ = ["Session", "in_db"]
