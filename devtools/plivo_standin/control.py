"""The stand-in's own control API (/_standin/...): failures, inspection, inbound messages."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from typing import Any

import aiohttp
from aiohttp import web

from bot.sms.segments import segment_count
from devtools.plivo_standin import media
from devtools.plivo_standin.inbound import InboundRequest, inbound_form, parse_inbound_request
from devtools.plivo_standin.signing import sign_request
from devtools.plivo_standin.state import INBOUND_RATE, STATE
from devtools.plivo_standin.store import INBOUND, OUTBOUND

log = logging.getLogger("devtools.plivo_standin.control")

# Plivo waits about 8 s for the bot's answer.
WEBHOOK_TIMEOUT = aiohttp.ClientTimeout(total=8)


def _bad_request(message: str) -> web.Response:
    return web.json_response({"error": message}, status=400)


async def _json_body(request: web.Request) -> Any:
    try:
        return await request.json()
    except json.JSONDecodeError:
        raise ValueError("request body is not valid JSON") from None


async def set_failure(request: web.Request) -> web.Response:
    """POST /_standin/fail: inject a failure (see Faults.configure)."""
    faults = request.app[STATE].faults
    try:
        faults.configure(await _json_body(request))
    except ValueError as error:
        return _bad_request(str(error))
    return web.json_response(faults.describe())


async def clear_failures(request: web.Request) -> web.Response:
    """DELETE /_standin/fail: remove every injected failure."""
    faults = request.app[STATE].faults
    faults.clear()
    return web.json_response(faults.describe())


async def reset(request: web.Request) -> web.Response:
    """POST /_standin/reset: clear failures, messages and counters."""
    state = request.app[STATE]
    await state.cancel_tasks()
    state.faults.clear()
    state.store.reset()
    state.media.reset()
    return web.json_response({"reset": True})


async def list_recorded(request: web.Request) -> web.Response:
    """GET /_standin/messages[?to=+1...][&since=seq][&direction=inbound]: recorded messages."""
    state = request.app[STATE]
    direction = request.query.get("direction", OUTBOUND)
    since_raw = request.query.get("since")
    try:
        since = int(since_raw) if since_raw else None
    except ValueError:
        return _bad_request("since must be an integer seq")
    to = request.query.get("to") or None
    if direction == OUTBOUND:
        messages = state.store.outbound(to=to, since=since)
    elif direction == INBOUND:
        messages = [
            m
            for m in state.store.all()
            if m.direction == INBOUND and (since is None or m.seq > since)
        ]
    else:
        return _bad_request("direction must be outbound or inbound")
    counters = state.store.counters
    return web.json_response(
        {
            "messages": [m.view() for m in messages],
            "count": len(messages),
            "create_calls": counters.create_calls,
            "refused": counters.refused,
            "rejected": counters.rejected,
        }
    )


async def conversation(request: web.Request) -> web.Response:
    """GET /_standin/conversation?phone=+1...: both directions for one phone, in time order."""
    phone = request.query.get("phone", "")
    if not phone.strip():
        return _bad_request("phone is required")
    messages = request.app[STATE].store.conversation(phone)
    return web.json_response({"messages": [m.view() for m in messages]})


async def _deliver(
    url: str, form: dict[str, str], headers: dict[str, str], session: aiohttp.ClientSession
) -> tuple[int | None, str]:
    """POST the signed form to the bot; (HTTP status or None, error text). A pooled
    connection the bot closed while idle fails on first use (broken pipe, disconnected):
    that attempt is repeated once on a new connection, the same MessageUUID, as Plivo
    repeats a webhook that failed (the bot dedupes on it)."""
    for attempt in (1, 2):
        try:
            async with session.post(
                url, data=form, headers=headers, timeout=WEBHOOK_TIMEOUT
            ) as response:
                await response.read()
                return response.status, ""
        except (aiohttp.ClientOSError, aiohttp.ServerDisconnectedError) as error:
            if attempt == 1:
                log.info("inbound webhook to %s: %r; trying a new connection", url, error)
                continue
            return _failed(url, error)
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            return _failed(url, error)
    raise AssertionError("the loop returns")


def _failed(url: str, error: Exception) -> tuple[None, str]:
    log.warning("inbound webhook to %s failed: %r", url, error)
    if isinstance(error, asyncio.TimeoutError):
        return None, f"the bot did not answer within {WEBHOOK_TIMEOUT.total:g} s"
    return None, f"bot webhook unreachable: {error}"


def _store_attachments(request: web.Request, inbound: InboundRequest) -> InboundRequest:
    """Keep the pictures sent with the message; their URLs join its media list."""
    if not inbound.attachments:
        return inbound
    state = request.app[STATE]
    origin = f"{request.scheme}://{request.host}"
    urls = [
        origin + media.media_path(state.auth_id, item.message_uuid, item.media_id)
        for item in (state.media.add(inbound.message_uuid, a) for a in inbound.attachments)
    ]
    return dataclasses.replace(inbound, media=inbound.media + urls)


async def serve_media(request: web.Request) -> web.Response:
    """GET /Account/{auth_id}/Message/{uuid}/Media/{id}: a picture a customer sent."""
    state = request.app[STATE]
    return media.serve(state.media, state.auth_id, request)


async def send_inbound(request: web.Request) -> web.Response:
    """POST /_standin/inbound: an SMS from a customer, posted signed to the bot's webhook."""
    state = request.app[STATE]
    try:
        inbound = parse_inbound_request(await _json_body(request))
    except ValueError as error:
        return _bad_request(str(error))
    units = max(1, segment_count(inbound.text))
    message = state.store.get(inbound.message_uuid)
    if message is not None and message.direction != INBOUND:
        return _bad_request("message_uuid belongs to an outbound message")
    if message is not None:  # a repeated MessageUUID simulates Plivo's retry: log it once
        inbound = dataclasses.replace(inbound, media=list(message.media))
    else:
        inbound = _store_attachments(request, inbound)
        message = state.store.add(
            INBOUND,
            inbound.sender,
            state.business_number,
            inbound.text,
            type_=inbound.type,
            state="received",
            units=units,
            rate=INBOUND_RATE,
            message_uuid=inbound.message_uuid,
            media=inbound.media,
            intent=inbound.intent,
        )
    if not state.bot_webhook_url:
        return web.json_response(
            {"status": None, "message_uuid": message.uuid, "error": "no bot webhook URL set"},
            status=503,
        )
    form = inbound_form(inbound, state.business_number, units)
    headers = sign_request(state.bot_webhook_url, form, state.auth_token)
    status, error = await _deliver(state.bot_webhook_url, form, headers, state.client())
    message.bot_status = status
    body: dict[str, Any] = {"status": status, "message_uuid": message.uuid}
    if error:
        body["error"] = error
        return web.json_response(body, status=502)
    return web.json_response(body)


def add_routes(app: web.Application) -> None:
    """Register the control API."""
    app.router.add_post("/_standin/fail", set_failure)
    app.router.add_delete("/_standin/fail", clear_failures)
    app.router.add_post("/_standin/reset", reset)
    app.router.add_get("/_standin/messages", list_recorded)
    app.router.add_get("/_standin/conversation", conversation)
    app.router.add_post("/_standin/inbound", send_inbound)
    app.router.add_get(media.media_path("{auth_id}", "{message_uuid}", "{media_id}"), serve_media)
