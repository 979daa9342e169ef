"""JSON API for the supervisor's per-agent figures over a range of local dates, and the
notification figures of the last days."""

from __future__ import annotations

import datetime as dt
from typing import Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.desk.agent_figures import RangeError, agent_figures
from bot.desk.notification_figures import notification_figures
from bot.desk.web.dbcall import in_db
from bot.desk.web.jsonio import error, reply
from bot.store.models import utcnow


def _zone(name: str) -> Optional[str]:
    """The IANA zone name if it is one, else None."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def _date(raw: Optional[str], default: dt.date) -> dt.date:
    if not raw:
        return default
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise RangeError(f"{raw!r} is not a date (YYYY-MM-DD)") from None


def register(app: Sanic) -> None:
    """Add the per-agent figures route (supervisors only)."""

    @app.get("/api/supervisor/agent-figures", ctx_role="supervisor")
    async def figures(request: Request) -> HTTPResponse:
        """GET ?from=YYYY-MM-DD&to=YYYY-MM-DD&tz=Area/City (default: today, BUSINESS_TZ)."""
        tz = request.args.get("tz") or request.app.ctx.settings.business_tz
        if _zone(tz) is None:
            return error(f"unknown time zone {tz!r}", 400)
        today = utcnow().replace(tzinfo=dt.timezone.utc).astimezone(ZoneInfo(tz)).date()
        try:
            start = _date(request.args.get("from"), today)
            end = _date(request.args.get("to"), start if request.args.get("from") else today)
            report = await in_db(request.app, agent_figures, start, end, tz)
        except RangeError as problem:
            return error(str(problem), 400)
        return reply({"figures": report})

    @app.get("/api/supervisor/notification-figures", ctx_role="supervisor")
    async def notifications(request: Request) -> HTTPResponse:
        """GET ?days=1-90 (default 7): notifications sent, delivered, replied within 24 h."""
        raw = request.args.get("days") or "7"
        if not raw.isdigit() or not 1 <= int(raw) <= 90:
            return error("days must be a whole number from 1 to 90", 400)
        report = await in_db(request.app, notification_figures, int(raw))
        return reply({"figures": report})
