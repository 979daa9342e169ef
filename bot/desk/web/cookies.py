"""The console's cookies: the session token and the sign-in form's double-submit token."""

from __future__ import annotations

import secrets
from typing import Optional

from sanic.request import Request
from sanic.response import BaseHTTPResponse

from bot.settings import Settings

SESSION = "desk_session"
LOGIN = "desk_login"


def name(base: str, settings: Settings) -> str:
    """`__Host-` prefixed when Secure (no Domain, Path=/: subdomains cannot plant it)."""
    return f"__Host-{base}" if settings.desk_cookie_secure else base


def read(request: Request, base: str) -> Optional[str]:
    """The cookie's value, if any."""
    return request.cookies.get(name(base, request.app.ctx.settings))


def put(
    response: BaseHTTPResponse, base: str, value: str, max_age: int, settings: Settings
) -> None:
    """Set an HttpOnly, SameSite=Strict cookie (Secure unless turned off)."""
    key = name(base, settings)
    response.cookies[key] = value
    cookie = response.cookies[key]
    cookie["path"] = "/"
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["max-age"] = max(0, int(max_age))
    if settings.desk_cookie_secure:
        cookie["secure"] = True


def drop(response: BaseHTTPResponse, base: str, settings: Settings) -> None:
    """Expire the cookie in the browser."""
    put(response, base, "", 0, settings)


def new_login_token() -> str:
    """A fresh double-submit token for the sign-in form."""
    return secrets.token_urlsafe(32)
