"""The stand-in's aiohttp application: Message API, control API and simulator page."""

from __future__ import annotations

from typing import AsyncIterator

import aiohttp
from aiohttp import web

from devtools.plivo_standin import control, message_api, simulator
from devtools.plivo_standin.state import STATE, StandInState


async def _http_client(app: web.Application) -> AsyncIterator[None]:
    """Own the outgoing HTTP session; cancel pending callbacks and close it on shutdown."""
    state = app[STATE]
    state.http = aiohttp.ClientSession(headers={"User-Agent": "PlivoStandIn/1.0"})
    try:
        yield
    finally:
        await state.cancel_tasks()
        await state.http.close()
        state.http = None


def create_app(
    auth_id: str,
    auth_token: str,
    business_number: str,
    bot_webhook_url: str | None,
    status_delays: tuple[float, ...] = (0.05, 0.05),
) -> web.Application:
    """Build the stand-in for one account with one business number (E.164)."""
    if not auth_id or not auth_token:
        raise ValueError("auth_id and auth_token are required")
    app = web.Application()
    app[STATE] = StandInState(
        auth_id=auth_id,
        auth_token=auth_token,
        business_number=business_number,
        bot_webhook_url=bot_webhook_url,
        status_delays=tuple(status_delays),
    )
    app.cleanup_ctx.append(_http_client)
    message_api.add_routes(app)
    control.add_routes(app)
    simulator.add_routes(app)
    return app
