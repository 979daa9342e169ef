"""JSON API for searching past conversations and reading one transcript (read-only).

Every signed-in agent may search and read every conversation of the business: a desk
answers returning customers, whoever handled them before. Acting on a chat (claim,
reply, transfer, resolve) still follows bot.desk.access."""

from __future__ import annotations

from typing import Any, Dict, Optional

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.orm import Session

from bot.desk.search import SearchError, search_conversations
from bot.desk.transcript import conversation_detail
from bot.desk.web.dbcall import in_db
from bot.desk.web.jsonio import error, reply
from bot.store.models import Customer


def _int_arg(request: Request, name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit():
        raise SearchError(f"{name} must be a whole number")
    return int(raw)


def _transcript(session: Session, conversation_id: int) -> Optional[Dict[str, Any]]:
    detail = conversation_detail(session, conversation_id)
    if detail is None:
        return None
    customer = session.query(Customer.name).filter(Customer.phone == detail.phone).first()
    return {"conversation": detail, "customer_name": customer[0] if customer else None}


def register(app: Sanic) -> None:
    """Add the search routes."""

    @app.get("/api/search")
    async def search(request: Request) -> HTTPResponse:
        """GET /api/search?q=...&limit=20&offset=0: matching conversations, newest first."""
        try:
            limit = _int_arg(request, "limit", 20)
            offset = _int_arg(request, "offset", 0)
            page = await in_db(
                request.app, search_conversations, request.args.get("q") or "", limit, offset
            )
        except SearchError as problem:
            return error(str(problem), 400)
        return reply(page)

    @app.get("/api/transcripts/<conversation_id:int>")
    async def transcript(request: Request, conversation_id: int) -> HTTPResponse:
        """GET /api/transcripts/<id>: the whole conversation, to read (no actions)."""
        found = await in_db(request.app, _transcript, conversation_id)
        if found is None:
            return error("no such conversation", 404)
        return reply(found)


__all__ = ["register"]
