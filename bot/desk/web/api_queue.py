"""JSON API for the lists: who am I, the queue, my chats, directory, canned replies; claim."""

from __future__ import annotations

from typing import Optional, Tuple

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.orm import Session

from bot.desk import canned, views
from bot.desk.access import permissions
from bot.desk.agents import AgentView
from bot.desk.web.auth import current
from bot.desk.web.dbcall import in_db
from bot.desk.web.jsonio import error, reply
from bot.store.models import utcnow
from bot.store.ownership import AGENT, QUEUE, claim, ownership_by_id


def _claim(session: Session, agent: AgentView, conversation_id: int) -> Tuple[str, Optional[str]]:
    """(outcome, current owner's name): ok | missing | forbidden | taken | not_queued."""
    perms = permissions(session, agent, conversation_id)
    if perms is None:
        return "missing", None
    before = ownership_by_id(session, conversation_id)
    if before.owner == QUEUE and not perms.claim:
        return "forbidden", None
    if before.owner == QUEUE and claim(session, conversation_id, agent.id):
        return "ok", agent.name
    after = ownership_by_id(session, conversation_id)
    if after.owner == AGENT:
        directory = {a.id: a.name for a in views.directory(session).agents}
        return "taken", directory.get(after.agent_id)
    return "not_queued", None


def register(app: Sanic) -> None:
    """Add the list routes."""

    @app.get("/api/me")
    async def me(request: Request) -> HTTPResponse:
        """GET /api/me: the signed-in agent and the session's CSRF token."""
        signed = current(request)
        settings = request.app.ctx.settings
        return reply(
            {
                "agent": signed.agent,
                "csrf_token": signed.csrf_token,
                "session_expires_at": signed.expires_at,
                "business_name": settings.business_name,
                "server_time": utcnow(),
            }
        )

    @app.get("/api/queue")
    async def queue(request: Request) -> HTTPResponse:
        """GET /api/queue: waiting chats of the agent's teams (all for supervisors)."""
        agent = current(request).agent
        items = await in_db(request.app, views.queue_for, agent)
        return reply({"items": items, "server_time": utcnow()})

    @app.get("/api/my-chats")
    async def my_chats(request: Request) -> HTTPResponse:
        """GET /api/my-chats: the agent's chats with unread counts."""
        agent = current(request).agent
        items = await in_db(request.app, views.my_chats, agent.id)
        return reply({"items": items})

    @app.get("/api/directory")
    async def directory(request: Request) -> HTTPResponse:
        """GET /api/directory: teams and agents (transfer targets)."""
        return reply(await in_db(request.app, views.directory))

    @app.get("/api/canned")
    async def canned_replies(request: Request) -> HTTPResponse:
        """GET /api/canned: canned replies for the agent's teams."""
        agent = current(request).agent
        teams = None if agent.is_supervisor else agent.teams
        return reply({"items": await in_db(request.app, canned.canned_for, teams)})

    @app.post("/api/conversations/<conversation_id:int>/claim")
    async def claim_route(request: Request, conversation_id: int) -> HTTPResponse:
        """POST /api/conversations/<id>/claim: 409 `already taken` if someone was faster."""
        agent = current(request).agent
        outcome, owner = await in_db(request.app, _claim, agent, conversation_id)
        if outcome == "ok":
            return reply({"ok": True, "conversation_id": conversation_id})
        if outcome == "missing":
            return error("no such conversation", 404)
        if outcome == "forbidden":
            return error("this chat is for another team", 403)
        if outcome == "taken":
            return error("already taken", 409, owner=owner)
        return error("this chat is not waiting in the queue", 409)
