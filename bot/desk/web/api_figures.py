"""JSON API for the supervisor's per-agent figures over a range of local dates, and the
notification figures of the last days."""

from __future__ import annotations

from typing import Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.desk.agent_figures import agent_figures
from bot.desk.date_range import RangeError, local_today, parse_range
from bot.desk.notification_figures import notification_figures
from bot.desk.web.dbcall import in_db
from bot.desk.web.jsonio import error, reply


def _zone(name: str) -> Optional[str]:
    """The IANA zone name if it is one, else None."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def register(app: Sanic) -> None:
    """Add the per-agent figures route (supervisors only)."""

    @app.get("/api/supervisor/agent-figures", ctx_role="supervisor")
    async def figures(request: Request) -> HTTPResponse:
        """GET ?from=YYYY-MM-DD&to=YYYY-MM-DD&tz=Area/City (default: today, BUSINESS_TZ)."""
        tz = request.args.get("tz") or request.app.ctx.settings.business_tz
        if _zone(tz) is None:
            return error(f"unknown time zone {tz!r}", 400)
        try:
            start, end = parse_range(
                request.args.get("from"), request.args.get("to"), local_today(tz)
            )
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
