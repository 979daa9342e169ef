"""JSON API for supervisors: queues, agents' load and today's figures; agents' settings."""

from __future__ import annotations

import datetime as dt

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.desk.agents import get_agent, set_auto_assign
from bot.desk.figures import overview
from bot.desk.maintenance_beat import maintenance_alive
from bot.desk.web.auth import current
from bot.desk.web.body import payload
from bot.desk.web.dbcall import in_db
from bot.desk.web.jsonio import error, reply
from bot.store.models import utcnow
from bot.store.ownership import reassign


def register(app: Sanic) -> None:
    """Add the supervisor routes (403 for agents)."""

    @app.get("/api/supervisor/overview", ctx_role="supervisor")
    async def supervisor_overview(request: Request) -> HTTPResponse:
        """GET /api/supervisor/overview: queues, agents, today's figures, waiting chats, and
        whether a console's maintenance loop runs (false: nobody is auto-assigned)."""
        settings = request.app.ctx.settings
        unanswered_after = dt.timedelta(seconds=settings.desk_unanswered_seconds)
        data = await in_db(request.app, overview, settings.business_tz, unanswered_after)
        alive = await in_db(request.app, maintenance_alive)
        return reply({"overview": data, "maintenance_alive": alive, "server_time": utcnow()})

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

    @app.post("/api/supervisor/conversations/<conversation_id:int>/reassign", ctx_role="supervisor")
    async def reassign_chat(request: Request, conversation_id: int) -> HTTPResponse:
        """POST {"from_agent_id", "to_agent_id"}: move a chat from the agent seen holding it."""
        data = payload(request)
        ids = [data.get("from_agent_id"), data.get("to_agent_id")]
        if not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            return error("from_agent_id and to_agent_id must be agent ids", 400)
        from_id, to_id = ids
        if from_id == to_id:
            return error("the chat is already with that agent", 400)
        if await in_db(request.app, get_agent, to_id) is None:
            return error("no such agent", 400)
        by_id = current(request).agent.id
        moved = await in_db(request.app, reassign, conversation_id, from_id, to_id, by_id)
        if not moved:
            return error("the chat is no longer with that agent", 409)
        return reply({"ok": True, "conversation_id": conversation_id, "agent_id": to_id})
