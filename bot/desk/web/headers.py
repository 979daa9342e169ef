"""Security headers on every response, and one INFO log line per request."""

from __future__ import annotations

import logging
import time

from sanic.request import Request
from sanic.response import BaseHTTPResponse

logger = logging.getLogger("bot.desk.web")

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


async def start_clock(request: Request) -> None:
    """Request middleware: remember when the request started."""
    request.ctx.started = time.perf_counter()


async def finish(request: Request, response: BaseHTTPResponse) -> None:
    """Response middleware: add the security headers and log the request."""
    if response is None:
        return
    for key, value in SECURITY_HEADERS.items():
        response.headers[key] = value
    started = getattr(request.ctx, "started", None)
    took = f"{(time.perf_counter() - started) * 1000:.1f}ms" if started else "-"
    session = getattr(request.ctx, "signed_in", None)
    who = session.agent.username if session is not None else "-"
    logger.info(
        "%s %s %s %s agent=%s ip=%s",
        request.method,
        request.path,
        response.status,
        took,
        who,
        request.ip or "-",
    )
