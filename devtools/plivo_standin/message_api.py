"""Plivo's Message API, as far as the SDK's messages.create/get/list need it."""

from __future__ import annotations

import asyncio
import hmac
import json
import uuid
from typing import Any

from aiohttp import BasicAuth, web

from bot.sms.segments import segment_count
from devtools.plivo_standin.callbacks import run_lifecycle
from devtools.plivo_standin.formats import money, plivo_time
from devtools.plivo_standin.listing import parse_list_query
from devtools.plivo_standin.send_params import parse_send_request
from devtools.plivo_standin.state import MMS_RATE, SMS_RATE, STATE, StandInState
from devtools.plivo_standin.store import OUTBOUND, StoredMessage

FAILURE_TEXT = {
    429: "too many requests",
    500: "internal server error",
    502: "bad gateway",
    503: "service unavailable",
}


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None, *, listing: bool = False
) -> web.Response:
    """A Plivo-shaped error: {"api_id", "error"} (plus "objects": [] for list requests)."""
    body: dict[str, Any] = {"api_id": str(uuid.uuid4()), "error": message}
    if listing:
        # plivo 4.63's list parsing iterates "objects" before looking at the status code: with
        # no list in an error body it dies with TypeError instead of raising the typed error.
        body["objects"] = []
    return web.json_response(body, status=status, headers=headers)


def _authorized(request: web.Request, state: StandInState) -> bool:
    """HTTP basic auth must be this account, and the path must name it."""
    header = request.headers.get("Authorization", "")
    try:
        credentials = BasicAuth.decode(header)
    except ValueError:
        return False
    return (
        hmac.compare_digest(request.match_info["auth_id"], state.auth_id)
        and hmac.compare_digest(credentials.login, state.auth_id)
        and hmac.compare_digest(credentials.password, state.auth_token)
    )


def message_object(message: StoredMessage, auth_id: str) -> dict[str, Any]:
    """A message as Plivo's API returns it (numbers without '+')."""
    return {
        "error_code": message.error_code,
        "from_number": message.from_number,
        "message_direction": message.direction,
        "message_state": message.state,
        "message_time": plivo_time(message.time),
        "message_type": message.type,
        "message_uuid": message.uuid,
        "resource_uri": f"/v1/Account/{auth_id}/Message/{message.uuid}/",
        "to_number": message.to_number,
        "total_amount": message.total_amount,
        "total_rate": money(message.rate),
        "units": message.units,
    }


async def _read_body(request: web.Request) -> Any:
    """The request body: JSON (what the SDK sends) or a form."""
    if request.content_type == "application/json":
        try:
            return await request.json()
        except json.JSONDecodeError:
            raise ValueError("request body is not valid JSON") from None
    return dict(await request.post())


async def create_message(request: web.Request) -> web.Response:
    """POST /v1/Account/{auth_id}/Message/: accept, record, then report delivery."""
    state = request.app[STATE]
    counters = state.store.counters
    counters.create_calls += 1
    if not _authorized(request, state):
        counters.rejected += 1
        return error_response(401, "authentication failed")
    failure = state.faults.take_failure()
    if failure is not None:
        counters.refused += 1
        headers = {"Retry-After": "1"} if failure == 429 else None
        return error_response(failure, FAILURE_TEXT.get(failure, "request failed"), headers)
    try:
        send = parse_send_request(await _read_body(request), state.business_number)
    except ValueError as error:
        counters.rejected += 1
        return error_response(400, str(error))
    units = max(1, segment_count(send.text))
    rate = MMS_RATE if send.type == "mms" else SMS_RATE
    messages = [
        state.store.add(
            OUTBOUND,
            send.src,
            dst,
            send.text,
            type_=send.type,
            state="queued",
            units=1 if send.type == "mms" else units,
            rate=rate,
            media=send.media_urls,
            callback_url=send.url,
            callback_method=send.method,
        )
        for dst in send.destinations
    ]
    for message in messages:
        state.spawn(run_lifecycle(state, message))
    delay = state.faults.take_delay()
    if delay:
        await asyncio.sleep(delay)  # recorded already: "accepted but the client timed out"
    body = {
        "api_id": str(uuid.uuid4()),
        "message": "message(s) queued",
        "message_uuid": [m.uuid for m in messages],
    }
    return web.json_response(body, status=202)


async def get_message(request: web.Request) -> web.Response:
    """GET /v1/Account/{auth_id}/Message/{uuid}/."""
    state = request.app[STATE]
    if not _authorized(request, state):
        return error_response(401, "authentication failed")
    message = state.store.get(request.match_info["message_uuid"])
    if message is None:
        return error_response(404, "not found")
    body = {"api_id": str(uuid.uuid4()), **message_object(message, state.auth_id)}
    return web.json_response(body)


def _page_uri(request: web.Request, limit: int, offset: int) -> str:
    query = {**request.query, "limit": str(limit), "offset": str(offset)}
    return str(request.rel_url.with_query(query))


async def list_messages(request: web.Request) -> web.Response:
    """GET /v1/Account/{auth_id}/Message/: newest first, filtered and paged."""
    state = request.app[STATE]
    if not _authorized(request, state):
        return error_response(401, "authentication failed", listing=True)
    try:
        query = parse_list_query(request.query)
    except ValueError as error:
        return error_response(400, str(error), listing=True)
    matching = [m for m in reversed(state.store.all()) if query.matches(m)]
    page = matching[query.offset : query.offset + query.limit]
    more = query.offset + query.limit < len(matching)
    meta = {
        "limit": query.limit,
        "offset": query.offset,
        "next": _page_uri(request, query.limit, query.offset + query.limit) if more else None,
        "previous": (
            _page_uri(request, query.limit, max(0, query.offset - query.limit))
            if query.offset
            else None
        ),
        "total_count": len(matching),
    }
    body = {
        "api_id": str(uuid.uuid4()),
        "meta": meta,
        "objects": [message_object(m, state.auth_id) for m in page],
    }
    return web.json_response(body)


def add_routes(app: web.Application) -> None:
    """Register the Message API (with and without the trailing slash the SDK adds)."""
    base = "/v1/Account/{auth_id}/Message"
    for suffix in ("/", ""):
        app.router.add_post(base + suffix, create_message)
        app.router.add_get(base + suffix, list_messages)
        app.router.add_get(base + "/{message_uuid}" + suffix, get_message)
