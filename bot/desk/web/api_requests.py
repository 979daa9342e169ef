"""JSON API for room requests (agents and supervisors): list, show, confirm, decline, edit."""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Optional

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.desk import room_requests
from bot.desk.room_requests import RequestProblem
from bot.desk.web.auth import current
from bot.desk.web.body import payload, text_field
from bot.desk.web.dbcall import in_db
from bot.desk.web.jsonio import error, reply
from bot.store.models import utcnow

PREFIX = "/api/requests"


def _day(request: Request, name: str) -> Optional[dt.date]:
    value = (request.args.get(name) or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise RequestProblem(400, f"{name} must be a date like 2026-12-05") from None


async def _answer(request: Request, fn: Callable[..., Any], *args: Any) -> HTTPResponse:
    """Run a data function in one transaction; a RequestProblem becomes its status."""
    try:
        body = await in_db(request.app, fn, *args)
    except RequestProblem as problem:
        return error(problem.message, problem.status)
    return reply(body)


def register(app: Sanic) -> None:
    """Add the room-request routes (any signed-in agent)."""

    @app.get(PREFIX)
    async def list_route(request: Request) -> HTTPResponse:
        """GET /api/requests?status=&from=&to=: requests whose stay overlaps the range."""
        try:
            status = (request.args.get("status") or "").strip() or None
            start, end = _day(request, "from"), _day(request, "to")
        except RequestProblem as problem:
            return error(problem.message, problem.status)

        def listing(session: Any) -> dict:
            items = room_requests.list_requests(session, status, start, end)
            return {"items": items, "server_time": utcnow()}

        return await _answer(request, listing)

    @app.get(PREFIX + "/<request_id:int>")
    async def show(request: Request, request_id: int) -> HTTPResponse:
        """GET /api/requests/<id>: the request and its history."""
        return await _answer(request, room_requests.request_detail, request_id)

    async def act(request: Request, request_id: int, action: str) -> HTTPResponse:
        note = text_field(payload(request), "note")
        return await _answer(
            request,
            room_requests.change_status,
            request.app.ctx.settings,
            request.app.ctx.templates,
            request_id,
            current(request).agent.id,
            action,
            note,
        )

    @app.post(PREFIX + "/<request_id:int>/confirm")
    async def confirm(request: Request, request_id: int) -> HTTPResponse:
        """POST {note?}: confirm it; the customer is texted the outcome with the note."""
        return await act(request, request_id, "confirm")

    @app.post(PREFIX + "/<request_id:int>/decline")
    async def decline(request: Request, request_id: int) -> HTTPResponse:
        """POST {note?}: decline it; the customer is texted the outcome with the note."""
        return await act(request, request_id, "decline")

    @app.post(PREFIX + "/<request_id:int>/edit")
    async def edit(request: Request, request_id: int) -> HTTPResponse:
        """POST {check_in?, check_out?, guests?, room_type?, notes?, note?}: change the
        details (recorded in the history; nobody is texted)."""
        data = payload(request)
        note = text_field(data, "note")
        fields = {key: value for key, value in data.items() if key != "note"}
        return await _answer(
            request,
            room_requests.edit_request,
            request.app.ctx.settings,
            request_id,
            current(request).agent.id,
            fields,
            note,
        )
