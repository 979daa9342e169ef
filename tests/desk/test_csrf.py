"""Every state-changing request needs the session's CSRF token and a same-origin request."""

from __future__ import annotations

from typing import Callable

import pytest

from tests.desk.client import DeskClient
from tests.desk.conftest import People
from tests.desk.helpers import owner_of, queue_chat
from tests.desk.server import DeskServer

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_missing_or_wrong_token_is_refused(
    desk: DeskServer, people: People, signed_in: Callable[[str], DeskClient]
) -> None:
    chat = queue_chat(desk.database_url, "+15550002000")
    alice = signed_in("alice")
    claim = f"/api/conversations/{chat.conversation_id}/claim"
    for token in (None, "", "wrong-token", alice.csrf + "x"):
        response = alice.post(claim, csrf=token)
        assert response.status == 403, token
        assert response.json() == {"error": "missing or invalid CSRF token"}
    assert owner_of(desk.database_url, chat.conversation_id).owner == "queue"
    # another session's token is not this session's token
    bob = signed_in("bob")
    assert alice.post(claim, csrf=bob.csrf).status == 403
    assert alice.post(claim).status == 200
    assert owner_of(desk.database_url, chat.conversation_id).agent_id == people.alice.id


def test_cross_origin_requests_are_refused_even_with_the_token(
    desk: DeskServer, people: People, signed_in: Callable[[str], DeskClient]
) -> None:
    alice = signed_in("alice")
    for headers in (
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Referer": "https://evil.example/page"},
        {"Origin": "http://127.0.0.1:1"},  # another port is another origin
    ):
        response = alice.post("/api/status", {"status": "away"}, headers=headers)
        assert response.status == 403, headers
        assert response.json() == {"error": "cross-origin request refused"}
    same = alice.post("/api/status", {"status": "away"}, headers={"Origin": desk.url})
    assert same.status == 200 and same.json()["status"] == "away"


def test_every_state_changing_route_checks_the_token(
    desk: DeskServer, people: People, signed_in: Callable[[str], DeskClient]
) -> None:
    chat = queue_chat(desk.database_url, "+15550002001")
    alice = signed_in("alice")
    cid = chat.conversation_id
    for path, body in [
        ("/api/status", {"status": "away"}),
        ("/api/heartbeat", {}),
        (f"/api/conversations/{cid}/claim", {}),
        (f"/api/conversations/{cid}/reply", {"text": "hi"}),
        (f"/api/conversations/{cid}/notes", {"text": "note"}),
        (f"/api/conversations/{cid}/transfer", {"team": "orders"}),
        (f"/api/conversations/{cid}/resolve", {}),
        (f"/api/conversations/{cid}/read", {}),
        ("/logout", {}),
    ]:
        assert alice.post(path, body, csrf=None).status == 403, path
    assert alice.get("/api/me").status == 200  # still signed in
