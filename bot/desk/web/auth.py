"""The gate in front of every route: who is signed in, role checks, and CSRF.

Routes are private unless registered with `ctx_public=True`; `ctx_role="supervisor"` makes
them supervisor-only; `ctx_csrf="login"` checks the sign-in form's double-submit token;
`ctx_token=True` (the notification API) takes a bearer token instead of a session: no
cookie is read there, so CSRF does not apply."""

from __future__ import annotations

import html
from typing import Optional

from sanic.request import Request
from sanic.response import HTTPResponse, redirect
from sanic.response import html as html_response

from bot.desk.sessions import SignedIn, find_session
from bot.desk.web import bearer, cookies, csrf
from bot.desk.web.dbcall import in_db
from bot.desk.web.jsonio import error

LOGIN_PATH = "/login"


def is_api(request: Request) -> bool:
    """JSON routes (and the live stream) answer with status codes, pages with redirects."""
    return request.path.startswith("/api/")


def signed_in(request: Request) -> Optional[SignedIn]:
    """The request's session, if signed in."""
    return getattr(request.ctx, "signed_in", None)


def current(request: Request) -> SignedIn:
    """The request's session (the gate guarantees one on private routes)."""
    found = signed_in(request)
    if found is None:
        raise RuntimeError("private route reached without a session")
    return found


def message_page(title: str, message: str, status: int) -> HTTPResponse:
    """A minimal HTML page for errors on page routes (text escaped)."""
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        '<link rel="icon" href="data:,"><link rel="stylesheet" href="/static/console.css">'
        '</head><body class="message-page"><main class="message-card">'
        f"<h1>{html.escape(title)}</h1><p>{html.escape(message)}</p>"
        '<p><a href="/">Back to the console</a></p></main></body></html>'
    )
    return html_response(body, status=status, headers={"Cache-Control": "no-store"})


def deny(request: Request, status: int, message: str) -> HTTPResponse:
    """401/403 as JSON for the API, a redirect to the sign-in page or an HTML page otherwise."""
    if is_api(request):
        return error(message, status)
    if status == 401:
        return redirect(LOGIN_PATH, status=302, headers={"Cache-Control": "no-store"})
    return message_page("Not allowed", message, status)


async def gate(request: Request) -> Optional[HTTPResponse]:
    """Request middleware: authenticate, authorise, and check CSRF (in that order)."""
    route = request.route
    ctx = route.ctx if route is not None else None
    request.ctx.signed_in = None
    if getattr(ctx, "asset", False):
        return None  # static files: no session lookup
    if getattr(ctx, "token", False):
        return bearer.check(request)  # the API: a bearer token, never the session cookie
    token = cookies.read(request, cookies.SESSION)
    if token:
        request.ctx.signed_in = await in_db(request.app, find_session, token)
    session = request.ctx.signed_in
    if not getattr(ctx, "public", False) and session is None:
        return deny(request, 401, "not signed in")
    if getattr(ctx, "role", None) == "supervisor" and not session.agent.is_supervisor:
        return deny(request, 403, "supervisors only")
    if getattr(ctx, "csrf", None) == "login":
        expected = cookies.read(request, cookies.LOGIN)
    else:
        expected = session.csrf_token if session is not None else None
    problem = csrf.problem(request, expected)
    if problem:
        if getattr(ctx, "csrf", None) == "login" and not is_api(request):
            return message_page(
                "Sign-in form expired", "Reload the sign-in page and try again.", 403
            )
        return deny(request, 403, problem)
    return None
