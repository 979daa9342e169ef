"""Bearer-token authentication of the notification API (/api/v1/*): tokens from
NOTIFY_API_TOKENS, compared in constant time. Sessions and CSRF play no part there: a
session cookie is never read on these routes, so a browser cannot be made to call them."""

from __future__ import annotations

import hmac
from typing import Optional, Sequence

from sanic.request import Request
from sanic.response import HTTPResponse

from bot.desk.web.jsonio import error
from bot.outbound.notifications import fingerprint

PREFIX = "/api/v1/"


def matching_token(header: Optional[str], tokens: Sequence[str]) -> Optional[str]:
    """The configured token the Authorization header carries, if any (every token is
    compared, so the time taken does not tell which one nearly matched)."""
    scheme, _, sent = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not sent.strip():
        return None
    sent_bytes = sent.strip().encode("utf-8")
    found = None
    for token in tokens:
        if hmac.compare_digest(sent_bytes, token.encode("utf-8")):
            found = token
    return found


def check(request: Request) -> Optional[HTTPResponse]:
    """None when the call carries a configured token (its fingerprint on request.ctx);
    a 401 otherwise."""
    token = matching_token(
        request.headers.get("authorization"), request.app.ctx.settings.notify_api_tokens
    )
    if token is None:
        response = error("a valid bearer token is required", 401)
        response.headers["WWW-Authenticate"] = 'Bearer realm="notifications"'
        return response
    request.ctx.token_fingerprint = fingerprint(token)
    return None
