"""JSON API for canned replies: agents fill one for a chat; supervisors add, edit, delete."""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.orm import Session

from bot.desk import canned
from bot.desk.access import permissions
from bot.desk.agents import AgentView
from bot.desk.views import known_teams
from bot.desk.web.auth import current
from bot.desk.web.body import payload, text_field
from bot.desk.web.dbcall import in_db
from bot.desk.web.jsonio import reply
from bot.store.models import Conversation, Customer

Outcome = Tuple[int, Dict[str, Any]]


def _teams_of(agent: AgentView) -> Optional[list]:
    return None if agent.is_supervisor else list(agent.teams)


def _filled(session: Session, agent: AgentView, cid: int, canned_id: int) -> Outcome:
    perms = permissions(session, agent, cid)
    if perms is None:
        return 404, {"error": "no such conversation"}
    if not perms.view:
        return 403, {"error": "not allowed for this conversation"}
    found = canned.find_canned(session, canned_id, _teams_of(agent))
    if found is None:
        return 404, {"error": "no such canned reply"}
    phone = session.query(Conversation.phone).filter(Conversation.id == cid).scalar()
    first = session.query(Customer.first_name).filter(Customer.phone == phone).scalar()
    return 200, {"id": found.id, "text": canned.fill(found.text, first, agent.name)}


def _save(
    session: Session, agent: AgentView, canned_id: Optional[int], data: Dict[str, Any]
) -> Outcome:
    team = data.get("team")
    if team is not None and not isinstance(team, str):
        return 400, {"error": "team must be a team name or null (every team)"}
    fields = (text_field(data, "title"), text_field(data, "text"), team)
    teams = known_teams(session)
    try:
        if canned_id is None:
            return 200, {"item": canned.create_canned(session, *fields, agent.id, teams)}
        saved = canned.update_canned(session, canned_id, *fields, agent.id, teams)
    except canned.CannedError as problem:
        return 400, {"error": str(problem)}
    if saved is None:
        return 404, {"error": "no such canned reply"}
    return 200, {"item": saved}


def _delete(session: Session, agent: AgentView, canned_id: int) -> Outcome:
    if not canned.delete_canned(session, canned_id, agent.id):
        return 404, {"error": "no such canned reply"}
    return 200, {"ok": True}


def _listing(session: Session) -> Dict[str, Any]:
    return {"items": canned.canned_for(session, None), "teams": known_teams(session)}


def register(app: Sanic) -> None:
    """Add the canned-reply routes (editing: supervisors only)."""

    async def run(request: Request, fn: Any, *args: Any) -> HTTPResponse:
        status, body = await in_db(request.app, fn, current(request).agent, *args)
        return reply(body, status=status)

    @app.get("/api/conversations/<cid:int>/canned/<canned_id:int>")
    async def filled(request: Request, cid: int, canned_id: int) -> HTTPResponse:
        """GET: the canned reply's text for this chat, {first_name} and {agent} filled."""
        return await run(request, _filled, cid, canned_id)

    @app.get("/api/supervisor/canned", ctx_role="supervisor")
    async def listing(request: Request) -> HTTPResponse:
        """GET /api/supervisor/canned: every canned reply and the teams to pick from."""
        return reply(await in_db(request.app, _listing))

    @app.post("/api/supervisor/canned", ctx_role="supervisor")
    async def create(request: Request) -> HTTPResponse:
        """POST {title, text, team|null}: a new canned reply."""
        return await run(request, _save, None, payload(request))

    @app.put("/api/supervisor/canned/<canned_id:int>", ctx_role="supervisor")
    async def update(request: Request, canned_id: int) -> HTTPResponse:
        """PUT {title, text, team|null}: change a canned reply."""
        return await run(request, _save, canned_id, payload(request))

    @app.post("/api/supervisor/canned/<canned_id:int>/delete", ctx_role="supervisor")
    async def delete(request: Request, canned_id: int) -> HTTPResponse:
        """POST: remove a canned reply (POST, not DELETE: Sanic ignores DELETE bodies)."""
        return await run(request, _delete, canned_id)
