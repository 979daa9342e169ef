"""JSON API for presence: the status select (online/away/offline) and heartbeats."""

from __future__ import annotations

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.desk.agents import STATUSES, heartbeat, set_status
from bot.desk.web.auth import current
from bot.desk.web.body import payload, text_field
from bot.desk.web.dbcall import in_db
from bot.desk.web.jsonio import error, reply


def register(app: Sanic) -> None:
    """Add the presence routes."""

    @app.post("/api/status")
    async def status(request: Request) -> HTTPResponse:
        """POST /api/status {status}: online, away or offline (offline requeues chats)."""
        agent = current(request).agent
        wanted = text_field(payload(request), "status")
        if wanted not in STATUSES:
            return error(f"status must be one of {', '.join(STATUSES)}", 400)
        requeued = await in_db(request.app, set_status, agent.id, wanted)
        return reply({"ok": True, "status": wanted, "requeued": requeued})

    @app.post("/api/heartbeat")
    async def beat(request: Request) -> HTTPResponse:
        """POST /api/heartbeat: the console is alive."""
        agent = current(request).agent
        await in_db(request.app, heartbeat, agent.id)
        return reply({"ok": True})
