"""JSON API for one conversation: read it, reply, note, transfer, resolve, mark read."""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

from sanic import Sanic
from sanic.exceptions import InvalidUsage
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.orm import Session

from bot.desk import replies, transfer_texts, views
from bot.desk.access import Permissions, permissions
from bot.desk.agents import AgentView
from bot.desk.customer_panel import customer_panel
from bot.desk.surveys import ask_csat
from bot.desk.transcript import conversation_detail
from bot.desk.web.auth import current
from bot.desk.web.body import payload, text_field
from bot.desk.web.dbcall import in_db
from bot.desk.web.jsonio import error, reply
from bot.settings import Settings
from bot.store.ownership import ownership_by_id, resolve, transfer

Outcome = Tuple[int, Dict[str, Any]]
NOT_FOUND: Outcome = (404, {"error": "no such conversation"})
FORBIDDEN: Outcome = (403, {"error": "not allowed for this conversation"})


def _allowed(session: Session, agent: AgentView, cid: int, what: str) -> Optional[Outcome]:
    perms: Optional[Permissions] = permissions(session, agent, cid)
    if perms is None:
        return NOT_FOUND
    if not getattr(perms, what):
        return FORBIDDEN
    return None


def _load(session: Session, agent: AgentView, cid: int) -> Outcome:
    denied = _allowed(session, agent, cid, "view")
    if denied:
        return denied
    detail = conversation_detail(session, cid)
    if detail is None:
        return NOT_FOUND
    return 200, {
        "conversation": detail,
        "customer": customer_panel(session, detail.phone),
        "permissions": permissions(session, agent, cid).as_dict(),
    }


def _reply(session: Session, agent: AgentView, cid: int, text: str) -> Outcome:
    if permissions(session, agent, cid) is None:
        return NOT_FOUND
    try:
        result = replies.send_reply(session, cid, agent.id, text)
    except replies.NotYourChat:
        return 409, {"error": "you do not own this conversation (any more)"}
    body = {
        "ok": True,
        "status": result.status,
        "suppressed": result.suppressed,
        "segments": result.segments,
        "encoding": result.encoding,
        "outbox_id": result.outbox_id,
        "message_id": result.message_id,
    }
    if result.suppressed:
        body["notice"] = "Not sent: this customer opted out of texts (suppressed)."
    return 200, body


def _note(session: Session, agent: AgentView, cid: int, text: str) -> Outcome:
    denied = _allowed(session, agent, cid, "note")
    if denied:
        return denied
    return 200, {"ok": True, "note_id": replies.add_note(session, cid, agent.id, text)}


def _transfer(
    session: Session, agent: AgentView, cid: int, data: Dict[str, Any], settings: Settings
) -> Outcome:
    """Pass the chat on; the customer is told once, in the same transaction."""
    denied = _allowed(session, agent, cid, "transfer")
    if denied:
        return denied
    note = text_field(data, "note").strip()[: replies.MAX_NOTE_CHARS] or None
    team = text_field(data, "team").strip() or None
    to_agent = data.get("agent_id")
    if (team is None) == (to_agent is None):
        return 400, {"error": "transfer to a team or to an agent"}
    people = views.directory(session)
    if team is not None and team not in people.teams:
        return 400, {"error": f"unknown team {team!r}"}
    target = None
    if to_agent is not None:
        target = next((a for a in people.agents if a.id == to_agent), None)
        if type(to_agent) is not int or target is None:
            return 400, {"error": "unknown agent"}
        if to_agent == agent.id:
            return 400, {"error": "this chat is yours already"}
        if target.status == "offline":
            return 400, {"error": f"{target.name} is offline; transfer to a team instead"}
    if not transfer(session, cid, agent.id, note, to_team=team, to_agent_id=to_agent):
        return 409, {"error": "you do not own this conversation (any more)"}
    to_name = target.name if target is not None else None
    transfer_texts.tell_customer(session, settings, cid, team=team, agent_name=to_name)
    return 200, {"ok": True, "to": to_name or team}


def _resolve(session: Session, agent: AgentView, cid: int, settings: Settings) -> Outcome:
    denied = _allowed(session, agent, cid, "resolve")
    if denied:
        return denied
    before = ownership_by_id(session, cid)
    if not resolve(session, cid, agent.id, supervisor=agent.is_supervisor):
        return 409, {"error": "this conversation is not with an agent (any more)"}
    survey = ask_csat(session, settings, before) if before is not None else None
    return 200, {"ok": True, "survey": survey.status if survey else None}


def _read(session: Session, agent: AgentView, cid: int, upto: Optional[int]) -> Outcome:
    denied = _allowed(session, agent, cid, "view")
    if denied:
        return denied
    return 200, {"ok": True, "last_read": replies.mark_read(session, agent.id, cid, upto)}


def register(app: Sanic) -> None:
    """Add the conversation routes."""
    prefix = "/api/conversations/<cid:int>"

    async def run(request: Request, fn: Any, *args: Any) -> HTTPResponse:
        """Call a data function for the signed-in agent; (status, body) becomes JSON."""
        agent = current(request).agent
        try:
            status, body = await in_db(request.app, fn, agent, *args)
        except ValueError as problem:
            return error(str(problem), 400)
        return reply(body, status=status)

    @app.get(prefix)
    async def show(request: Request, cid: int) -> HTTPResponse:
        """GET /api/conversations/<id>: transcript, customer panel, permissions."""
        return await run(request, _load, cid)

    @app.post(prefix + "/reply")
    async def send(request: Request, cid: int) -> HTTPResponse:
        """POST /api/conversations/<id>/reply {text}: an SMS through the outbox."""
        return await run(request, _reply, cid, text_field(payload(request), "text"))

    @app.post(prefix + "/notes")
    async def note(request: Request, cid: int) -> HTTPResponse:
        """POST /api/conversations/<id>/notes {text}: an internal note."""
        return await run(request, _note, cid, text_field(payload(request), "text"))

    @app.post(prefix + "/transfer")
    async def transfer_route(request: Request, cid: int) -> HTTPResponse:
        """POST /api/conversations/<id>/transfer {team|agent_id, note}."""
        settings = request.app.ctx.settings
        return await run(request, _transfer, cid, payload(request), settings)

    @app.post(prefix + "/resolve")
    async def resolve_route(request: Request, cid: int) -> HTTPResponse:
        """POST /api/conversations/<id>/resolve: back to the bot; the CSAT question."""
        return await run(request, _resolve, cid, request.app.ctx.settings)

    @app.post(prefix + "/read")
    async def read(request: Request, cid: int) -> HTTPResponse:
        """POST /api/conversations/<id>/read {last_message_id?}: mark read."""
        upto = payload(request).get("last_message_id")
        if upto is not None and type(upto) is not int:
            raise InvalidUsage("last_message_id must be an integer")
        return await run(request, _read, cid, upto)
