"""Sign-in and sign-out: argon2-checked passwords, throttled, sessions in cookies."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Optional, Tuple

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, redirect
from sanic.response import html as html_response
from sqlalchemy.orm import Session

from bot.desk import login_limits, sessions
from bot.desk.agents import authenticate, set_status
from bot.desk.web import cookies
from bot.desk.web.auth import current, signed_in
from bot.desk.web.dbcall import in_db

TEMPLATE = Path(__file__).with_name("static") / "login.html"
LOGIN_TOKEN_SECONDS = 3600
MAX_FIELD = 200


def render(token: str, error: str = "", username: str = "") -> str:
    """The sign-in page with its CSRF token (all values escaped)."""
    page = TEMPLATE.read_text(encoding="utf-8")
    return (
        page.replace("__CSRF__", html.escape(token, quote=True))
        .replace("__USERNAME__", html.escape(username, quote=True))
        .replace("__ERROR__", html.escape(error))
        .replace("__ERROR_CLASS__", "error" if error else "error hidden")
    )


def _page(request: Request, status: int = 200, error: str = "", username: str = "") -> HTTPResponse:
    token = cookies.read(request, cookies.LOGIN)
    if not token or len(token) > 100:
        token = cookies.new_login_token()
    response = html_response(
        render(token, error, username), status=status, headers={"Cache-Control": "no-store"}
    )
    settings = request.app.ctx.settings
    cookies.put(response, cookies.LOGIN, token, LOGIN_TOKEN_SECONDS, settings)
    return response


def _sign_in(
    session: Session, username: str, password: str, ip: str, hours: float
) -> Tuple[str, Optional[str]]:
    """('blocked'|'wrong'|'ok', session token if ok)."""
    if login_limits.blocked(session, username, ip):
        return "blocked", None
    agent = authenticate(session, username, password)
    login_limits.record_attempt(session, username, ip, agent is not None)
    if agent is None:
        return "wrong", None
    sessions.purge_expired(session)
    login_limits.purge_old(session)
    token, _ = sessions.start_session(session, agent.id, hours)
    return "ok", token


def _sign_out(session: Session, token: Optional[str]) -> None:
    agent_id = sessions.end_session(session, token)
    if agent_id is not None and sessions.live_sessions(session, agent_id) == 0:
        set_status(session, agent_id, "offline")  # their chats go back to the queue


def register(app: Sanic) -> None:
    """Add the sign-in routes."""

    @app.get("/login", ctx_public=True)
    async def login_page(request: Request) -> HTTPResponse:
        """GET /login: the sign-in form (signed-in browsers go to the console)."""
        if signed_in(request) is not None:
            return redirect("/", headers={"Cache-Control": "no-store"})
        return _page(request)

    @app.post("/login", ctx_public=True, ctx_csrf="login")
    async def login_submit(request: Request) -> HTTPResponse:
        """POST /login: check the password (throttled), start a session."""
        username = (request.form.get("username") or "").strip()[:MAX_FIELD]
        password = (request.form.get("password") or "")[: MAX_FIELD * 5]
        if not username or not password:
            return _page(request, 400, "Enter your username and password.", username)
        settings = request.app.ctx.settings
        outcome, token = await in_db(
            request.app,
            _sign_in,
            username,
            password,
            request.ip or "?",
            settings.desk_session_hours,
        )
        if outcome == "blocked":
            return _page(request, 429, login_limits.BLOCKED_MESSAGE, username)
        if outcome == "wrong" or token is None:
            return _page(request, 401, "Wrong username or password.", username)
        response = redirect("/", status=303, headers={"Cache-Control": "no-store"})
        max_age = int(settings.desk_session_hours * 3600)
        cookies.put(response, cookies.SESSION, token, max_age, settings)
        cookies.drop(response, cookies.LOGIN, settings)
        return response

    @app.post("/logout")
    async def logout(request: Request) -> HTTPResponse:
        """POST /logout: end this session; the last one puts the agent offline."""
        current(request)
        await in_db(request.app, _sign_out, cookies.read(request, cookies.SESSION))
        response = redirect("/login", status=303, headers={"Cache-Control": "no-store"})
        cookies.drop(response, cookies.SESSION, request.app.ctx.settings)
        return response
