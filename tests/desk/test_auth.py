"""Sign-in, sessions, sign-out, throttling, roles: against a running console over HTTP."""

from __future__ import annotations

import hashlib
from typing import Callable

import pytest
from sqlalchemy import select, update

from bot.desk.agents import get_agent
from bot.store.db import session_scope
from bot.store.models import AgentSession
from tests.desk.client import DeskClient
from tests.desk.conftest import PASSWORD, People
from tests.desk.helpers import queue_chat
from tests.desk.server import DeskServer

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

PRIVATE_PAGES = ["/", "/supervisor", "/requests", "/review"]
PRIVATE_GETS = [
    "/api/me",
    "/api/queue",
    "/api/my-chats",
    "/api/directory",
    "/api/canned",
    "/api/conversations/1",
    "/api/supervisor/overview",
    "/api/review",
    "/api/stream",
    "/api/search?q=secret",
    "/api/transcripts/1",
    "/api/conversations/1/canned/1",
    "/api/supervisor/canned",
    "/api/supervisor/agent-figures",
    "/api/requests",
    "/api/requests/1",
]
PRIVATE_POSTS = [
    "/api/status",
    "/api/heartbeat",
    "/api/conversations/1/claim",
    "/api/conversations/1/reply",
    "/api/conversations/1/notes",
    "/api/conversations/1/transfer",
    "/api/conversations/1/resolve",
    "/api/conversations/1/read",
    "/api/supervisor/canned",
    "/api/supervisor/canned/1/delete",
    "/api/requests/1/confirm",
    "/api/requests/1/decline",
    "/api/requests/1/edit",
    "/api/review/label",
    "/logout",
]
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def test_unauthenticated_requests_get_nothing(desk: DeskServer, people: People) -> None:
    queue_chat(desk.database_url, "+15550001000", "secret customer text")
    anonymous = DeskClient(desk.url)
    for path in PRIVATE_PAGES:
        response = anonymous.get(path)
        assert response.status == 302 and response.headers["Location"] == "/login", path
        assert b"secret" not in response.body
    for path in PRIVATE_GETS:
        response = anonymous.get(path)
        assert response.status == 401, path
        assert response.json() == {"error": "not signed in"}
        assert response.content_type == "application/json"
    for path in PRIVATE_POSTS:
        response = anonymous.post(path, {"text": "x"}, csrf="made-up")
        assert response.status in (302, 401), path
        if path.startswith("/api/"):
            assert response.status == 401
    # a made-up session cookie is no better
    forged = DeskClient(desk.url)
    forged.cookies["__Host-desk_session"] = "not-a-real-token"
    assert forged.get("/api/queue").status == 401
    assert forged.get("/api/stream").status == 401


def test_login_page_and_assets_are_public_with_security_headers(desk: DeskServer) -> None:
    anonymous = DeskClient(desk.url)
    page = anonymous.get("/login")
    assert page.status == 200 and "text/html" in page.content_type
    assert '<form method="post" action="/login"' in page.text
    assert "<script" not in page.text  # nothing inline, nothing at all on this page
    for name, value in SECURITY_HEADERS.items():
        assert page.headers[name] == value
    for asset, kind in [
        ("console.js", "text/javascript"),
        ("segments.js", "text/javascript"),
        ("console.css", "text/css"),
    ]:
        response = anonymous.get(f"/static/{asset}")
        assert response.status == 200 and response.content_type.startswith(kind)
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert anonymous.get("/static/console.html").status == 404  # only listed assets
    assert anonymous.get("/static/..%2Fapp.py").status == 404


def test_login_sets_a_hardened_cookie_stored_hashed(desk: DeskServer, people: People) -> None:
    client = DeskClient(desk.url)
    response = client.try_login("alice", PASSWORD)
    assert response.status == 303 and response.headers["Location"] == "/"
    cookie = next(
        h for h in response.headers.get_all("Set-Cookie") if h.startswith("__Host-desk_session=")
    )
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in attributes and "secure" in attributes
    assert "samesite=strict" in attributes and "path=/" in attributes
    token = client.session_cookie()
    assert token and len(token) >= 40
    with session_scope(desk.database_url) as session:
        stored = session.execute(select(AgentSession.token_hash)).scalars().all()
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]
    assert token not in stored
    me = client.get("/api/me")
    assert me.status == 200 and me.content_type == "application/json"
    assert me.json()["agent"]["username"] == "alice"
    # the console page is served once signed in
    page = client.get("/")
    assert page.status == 200 and '<script src="/static/console.js" defer>' in page.text


def test_wrong_password_and_unknown_user_look_the_same(desk: DeskServer, people: People) -> None:
    client = DeskClient(desk.url)
    wrong = client.try_login("alice", "not-the-password")
    unknown = client.try_login("nobody", "not-the-password")
    assert wrong.status == unknown.status == 401
    assert "Wrong username or password." in wrong.text and "Wrong username" in unknown.text
    assert client.session_cookie() is None


def test_login_needs_the_double_submit_token(desk: DeskServer, people: People) -> None:
    client = DeskClient(desk.url)
    token = client.login_token()
    fields = {"username": "alice", "password": PASSWORD}
    assert client.post_form("/login", fields).status == 403  # no token
    assert client.post_form("/login", {**fields, "csrf_token": "forged"}).status == 403
    other = DeskClient(desk.url)  # the token without its cookie
    assert other.post_form("/login", {**fields, "csrf_token": token}).status == 403
    cross = client.post_form(
        "/login", {**fields, "csrf_token": token}, headers={"Origin": "https://evil.example"}
    )
    assert cross.status == 403
    assert client.session_cookie() is None
    ok = client.post_form("/login", {**fields, "csrf_token": token})
    assert ok.status == 303 and client.session_cookie()


def test_login_is_rate_limited_per_username(desk: DeskServer, people: People) -> None:
    client = DeskClient(desk.url)
    for _ in range(5):
        assert client.try_login("alice", "wrong-password").status == 401
    blocked = client.try_login("alice", PASSWORD)  # even the right password now
    assert blocked.status == 429
    assert "Too many failed sign-ins" in blocked.text
    assert client.session_cookie() is None
    # another user from the same address is not affected yet
    assert DeskClient(desk.url).try_login("bob", PASSWORD).status == 303


def test_login_is_rate_limited_per_address(desk: DeskServer, people: People) -> None:
    client = DeskClient(desk.url)
    for i in range(20):
        assert client.try_login(f"guess{i}", "wrong-password").status == 401
    assert client.try_login("bob", PASSWORD).status == 429


def test_logout_ends_the_session_and_goes_offline(
    desk: DeskServer, people: People, signed_in: Callable[[str], DeskClient]
) -> None:
    alice = signed_in("alice")
    assert alice.post("/api/heartbeat").status == 200
    token = alice.session_cookie()
    assert alice.post("/logout", csrf=None).status == 403  # logout needs the token too
    response = alice.post("/logout")
    assert response.status == 303 and response.headers["Location"] == "/login"
    assert alice.session_cookie() is None
    replay = DeskClient(desk.url)
    replay.cookies["__Host-desk_session"] = token
    assert replay.get("/api/me").status == 401
    with session_scope(desk.database_url) as session:
        assert get_agent(session, people.alice.id).status == "offline"


def test_logout_with_the_form_field_token(
    desk: DeskServer, people: People, signed_in: Callable[[str], DeskClient]
) -> None:
    alice = signed_in("alice")
    response = alice.post_form("/logout", {"csrf_token": alice.csrf})
    assert response.status == 303
    assert alice.get("/api/me").status == 401


def test_expired_session_is_refused(
    desk: DeskServer, people: People, signed_in: Callable[[str], DeskClient]
) -> None:
    alice = signed_in("alice")
    with session_scope(desk.database_url) as session:
        session.execute(update(AgentSession).values(expires_at=AgentSession.created_at))
    assert alice.get("/api/me").status == 401
    assert alice.get("/").status == 302


def test_agents_cannot_use_supervisor_pages_or_apis(
    desk: DeskServer, people: People, signed_in: Callable[[str], DeskClient]
) -> None:
    alice = signed_in("alice")
    assert alice.get("/api/supervisor/overview").status == 403
    assert alice.get("/api/supervisor/overview").json() == {"error": "supervisors only"}
    page = alice.get("/supervisor")
    assert page.status == 403 and "supervisors only" in page.text
    sue = signed_in("sue")
    overview = sue.get("/api/supervisor/overview")
    assert overview.status == 200 and overview.content_type == "application/json"
    assert sue.get("/supervisor").status == 200
