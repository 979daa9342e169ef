"""CSRF defences for state-changing requests: same-origin Origin/Referer, and a token
(the session's, or the sign-in form's double-submit cookie) sent in a header or form field."""

from __future__ import annotations

import hmac
from typing import Optional
from urllib.parse import urlsplit

from sanic.request import Request

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
HEADER = "x-csrf-token"
FIELD = "csrf_token"


def _netloc(url: str) -> str:
    try:
        return urlsplit(url).netloc.lower()
    except ValueError:
        return ""


def same_origin(request: Request) -> bool:
    """False when Origin (or, without it, Referer) names another host than this request's."""
    host = (request.headers.get("host") or "").lower()
    origin = request.headers.get("origin")
    if origin is not None:
        return bool(host) and _netloc(origin) == host
    referer = request.headers.get("referer")
    if referer:
        return bool(host) and _netloc(referer) == host
    return True


def submitted_token(request: Request) -> str:
    """The token the client sent: the X-CSRF-Token header, else the form field."""
    token = request.headers.get(HEADER)
    if token:
        return token
    content_type = (request.headers.get("content-type") or "").lower()
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return request.form.get(FIELD) or ""
    return ""


def tokens_match(sent: Optional[str], expected: Optional[str]) -> bool:
    """Constant-time comparison; an empty token never matches."""
    if not sent or not expected:
        return False
    return hmac.compare_digest(sent.encode("utf-8"), expected.encode("utf-8"))


def problem(request: Request, expected: Optional[str]) -> Optional[str]:
    """Why this unsafe request must be refused (None: it may proceed)."""
    if request.method in SAFE_METHODS:
        return None
    if not same_origin(request):
        return "cross-origin request refused"
    if not tokens_match(submitted_token(request), expected):
        return "missing or invalid CSRF token"
    return None
