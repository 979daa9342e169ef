"""JSON responses: dataclasses and datetimes (naive UTC, sent with a Z) made serialisable."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any, Dict, Optional

from sanic.response import HTTPResponse
from sanic.response import json as sanic_json


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return value.isoformat(timespec="seconds") + "Z"
    if isinstance(value, dt.date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(body: Any) -> str:
    """JSON text of `body` (dataclasses and datetimes included)."""
    return json.dumps(body, default=_default, ensure_ascii=False, separators=(",", ":"))


def reply(body: Any, status: int = 200, headers: Optional[Dict[str, str]] = None) -> HTTPResponse:
    """An application/json response that is never cached."""
    return sanic_json(
        body, status=status, headers={"Cache-Control": "no-store", **(headers or {})}, dumps=dumps
    )


def error(message: str, status: int, **extra: Any) -> HTTPResponse:
    """{"error": message, ...} with the status."""
    return reply({"error": message, **extra}, status=status)
