"""The notification API (bearer tokens, bot/desk/web/bearer.py): send a template to one
number or a list, read a notification or a list's progress, change an order's status.
Documented in docs/openapi/notifications.yaml."""

from __future__ import annotations

from typing import Any, Callable

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.desk.web.body import payload
from bot.desk.web.dbcall import in_db
from bot.desk.web.jsonio import error, reply
from bot.outbound import notifications
from bot.outbound.notifications import NotifyProblem

PREFIX = "/api/v1"


async def _answer(
    request: Request, fn: Callable[..., Any], *args: Any, status: int = 200
) -> HTTPResponse:
    """Run it in one transaction (rolled back on a refusal); a NotifyProblem is its status."""
    try:
        body = await in_db(request.app, fn, *args)
    except NotifyProblem as problem:
        return error(problem.message, problem.status)
    return reply(body, status=status)


def register(app: Sanic) -> None:
    """Add the API's routes (token auth, no session, no CSRF)."""

    @app.post(PREFIX + "/notifications", ctx_token=True)
    async def send(request: Request) -> HTTPResponse:
        """POST {to, template, order | request, idempotency_key}: 202 with an id per
        recipient (200 when the key was used before with the same body)."""
        data = payload(request)
        try:
            answer, replayed = await in_db(
                request.app,
                notifications.notify,
                request.app.ctx.settings,
                request.app.ctx.templates,
                request.ctx.token_fingerprint,
                data,
            )
        except NotifyProblem as problem:
            return error(problem.message, problem.status)
        return reply({**answer, "replayed": replayed}, status=200 if replayed else 202)

    @app.get(PREFIX + "/notifications/<text_id:int>", ctx_token=True)
    async def show(request: Request, text_id: int) -> HTTPResponse:
        """GET: one notification's status (and the reason when suppressed); a call's
        texts are readable with the token that sent them."""
        return await _answer(
            request, notifications.notification, text_id, request.ctx.token_fingerprint
        )

    @app.get(PREFIX + "/notifications", ctx_token=True)
    async def progress(request: Request) -> HTTPResponse:
        """GET ?batch=<id>: a list's notifications and counts by status."""
        batch = (request.args.get("batch") or "").strip()
        if not batch:
            return error("batch is required", 400)
        return await _answer(
            request, notifications.batch_progress, batch, request.ctx.token_fingerprint
        )

    @app.post(PREFIX + "/orders/<number:str>/status", ctx_token=True)
    async def order_status(request: Request, number: str) -> HTTPResponse:
        """POST {status, carrier?, tracking?, eta?}: change it; a change to shipped,
        delayed or delivered texts the customer once."""
        return await _answer(
            request,
            notifications.set_order_status,
            request.app.ctx.settings,
            request.app.ctx.templates,
            number,
            payload(request),
        )
