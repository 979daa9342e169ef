"""Supervisor API for surveys: CSAT/NPS figures over a date range, their CSV export, and
NPS campaigns (start one with a filter, follow its progress)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, Optional, Tuple

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, raw

from bot.desk.date_range import local_today, parse_range
from bot.desk.survey_figures import answers_csv, survey_figures
from bot.desk.surveys import CampaignFilter, campaigns, start_campaign
from bot.desk.views import known_teams
from bot.desk.web.auth import current
from bot.desk.web.body import payload, text_field
from bot.desk.web.dbcall import in_db
from bot.desk.web.jsonio import error, reply
from bot.store.models import utcnow

MAX_NAME = 80


def _date_range(request: Request, tz: str) -> Tuple[dt.date, dt.date]:
    """?from=YYYY-MM-DD&to=YYYY-MM-DD (default: today in the business's zone)."""
    return parse_range(request.args.get("from"), request.args.get("to"), local_today(tz))


def _bound(data: Dict[str, Any], key: str) -> Optional[int]:
    value = data.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key} must be a whole number")
    return value


def register(app: Sanic) -> None:
    """Add the survey routes (supervisors only)."""

    @app.get("/api/supervisor/surveys", ctx_role="supervisor")
    async def survey_overview(request: Request) -> HTTPResponse:
        """GET ?from&to: CSAT per agent and team, NPS, and the latest NPS campaigns."""
        tz = request.app.ctx.settings.business_tz
        try:
            start, end = _date_range(request, tz)
            figures = await in_db(request.app, survey_figures, start, end, tz)
        except ValueError as problem:
            return error(str(problem), 400)
        progress = await in_db(request.app, campaigns)
        teams = await in_db(request.app, known_teams)
        return reply(
            {"figures": figures, "campaigns": progress, "teams": teams, "server_time": utcnow()}
        )

    @app.get("/api/supervisor/surveys.csv", ctx_role="supervisor")
    async def survey_csv(request: Request) -> HTTPResponse:
        """GET ?from&to: every answer in the range as CSV (formula-safe cells)."""
        tz = request.app.ctx.settings.business_tz
        try:
            start, end = _date_range(request, tz)
            body = await in_db(request.app, answers_csv, start, end, tz)
        except ValueError as problem:
            return error(str(problem), 400)
        name = f"surveys-{start.isoformat()}-{end.isoformat()}.csv"
        return raw(
            body.encode("utf-8"),
            content_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "no-store",
            },
        )

    @app.post("/api/supervisor/nps-campaigns", ctx_role="supervisor")
    async def new_campaign(request: Request) -> HTTPResponse:
        """POST {name, days, team?, csat_min?, csat_max?}: ask the matching customers."""
        data = payload(request)
        try:
            days = _bound(data, "days")
            chosen = CampaignFilter(
                days if days is not None else 30,
                text_field(data, "team").strip() or None,
                _bound(data, "csat_min"),
                _bound(data, "csat_max"),
            )
            chosen.check()
        except ValueError as problem:
            return error(str(problem), 400)
        name = text_field(data, "name").strip()[:MAX_NAME]
        agent_id = current(request).agent.id
        settings = request.app.ctx.settings
        campaign_id = await in_db(request.app, start_campaign, settings, name, chosen, agent_id)
        progress = await in_db(request.app, campaigns)
        found = next((c for c in progress if c.id == campaign_id), None)
        return reply({"ok": True, "campaign": found})
