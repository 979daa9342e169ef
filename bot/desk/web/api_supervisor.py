"""JSON API for supervisors: queues, agents' load and today's figures."""

from __future__ import annotations

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.desk.figures import overview
from bot.desk.web.dbcall import in_db
from bot.desk.web.jsonio import reply
from bot.store.models import utcnow


def register(app: Sanic) -> None:
    """Add the supervisor routes (403 for agents)."""

    @app.get("/api/supervisor/overview", ctx_role="supervisor")
    async def supervisor_overview(request: Request) -> HTTPResponse:
        """GET /api/supervisor/overview: queues, agents, today's figures, waiting chats."""
        data = await in_db(request.app, overview, request.app.ctx.settings.business_tz)
        return reply({"overview": data, "server_time": utcnow()})
