"""JSON API for supervisors: queues, agents' load and today's figures; agents' settings."""

from __future__ import annotations

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.desk.agents import set_auto_assign
from bot.desk.figures import overview
from bot.desk.web.body import payload
from bot.desk.web.dbcall import in_db
from bot.desk.web.jsonio import error, reply
from bot.store.models import utcnow


def register(app: Sanic) -> None:
    """Add the supervisor routes (403 for agents)."""

    @app.get("/api/supervisor/overview", ctx_role="supervisor")
    async def supervisor_overview(request: Request) -> HTTPResponse:
        """GET /api/supervisor/overview: queues, agents, today's figures, waiting chats."""
        data = await in_db(request.app, overview, request.app.ctx.settings.business_tz)
        return reply({"overview": data, "server_time": utcnow()})

    @app.post("/api/supervisor/agents/<agent_id:int>/auto-assign", ctx_role="supervisor")
    async def agent_auto_assign(request: Request, agent_id: int) -> HTTPResponse:
        """POST {"enabled": bool}: whether the desk hands this person waiting chats."""
        enabled = payload(request).get("enabled")
        if not isinstance(enabled, bool):
            return error("enabled must be true or false", 400)
        agent = await in_db(request.app, set_auto_assign, agent_id, enabled)
        if agent is None:
            return error("no such agent", 404)
        return reply({"ok": True, "agent_id": agent.id, "auto_assign": agent.auto_assign})
