"""Presence with the maintenance loop running inside the console process: an agent whose
console stops heartbeating gets no new chats, keeps theirs for a grace period, then goes
offline and their chats go back to the queue."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Iterator, Tuple

import pytest

from bot.desk.agents import get_agent
from bot.store.db import session_scope
from bot.store.migrate import upgrade
from bot.store.seed import seed
from tests.desk.client import DeskClient
from tests.desk.conftest import People, make_people
from tests.desk.helpers import owner_of, queue_chat
from tests.desk.server import DeskServer

pytest.importorskip("bot.desk.maintenance")

TIMEOUT = 2.0
GRACE = 4.0


@pytest.fixture(scope="module")
def maintained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tuple[DeskServer, People]]:
    work: Path = tmp_path_factory.mktemp("desk-presence")
    url = f"sqlite:///{work / 'bot.db'}"
    upgrade(url)
    with session_scope(url) as session:
        seed(session)
    people = make_people(url)
    server = DeskServer(
        url,
        work,
        maintenance=True,
        extra_env={
            "AGENT_HEARTBEAT_TIMEOUT_SECONDS": str(TIMEOUT),
            "DESK_PRESENCE_GRACE_SECONDS": str(GRACE),
        },
    ).start()
    try:
        yield server, people
    finally:
        server.stop()


def wait_for(check: Callable[[], bool], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_silent_console_goes_offline_and_its_chats_are_requeued(
    maintained: Tuple[DeskServer, People],
) -> None:
    server, people = maintained
    url, alice_id = server.database_url, people.alice.id
    alice = DeskClient(server.url).login("alice")
    assert alice.post("/api/heartbeat").status == 200
    chat = queue_chat(url, "+15550007001")
    # the loop auto-assigns to the online agent (or alice claims it first: same result)
    alice.post(f"/api/conversations/{chat.conversation_id}/claim")
    current = owner_of(url, chat.conversation_id)
    assert (current.owner, current.agent_id) == ("agent", alice_id)
    # keep heartbeating for longer than the timeout: alice stays
    for _ in range(4):
        time.sleep(TIMEOUT / 2)
        alice.post("/api/heartbeat")
    assert owner_of(url, chat.conversation_id).owner == "agent"
    # then the console goes quiet (closed tab): offline, chat back in the queue
    wait_for(lambda: owner_of(url, chat.conversation_id).owner == "queue")
    with session_scope(url) as session:
        assert get_agent(session, alice_id).status == "offline"
    assert "maintenance loop started" in server.log()


def test_an_automatic_assignment_says_so_in_the_transcript(
    maintained: Tuple[DeskServer, People],
) -> None:
    server, people = maintained
    url = server.database_url
    bob = DeskClient(server.url).login("bob")
    assert bob.post("/api/heartbeat").status == 200
    chat = queue_chat(url, "+15550007002")
    wait_for(lambda: owner_of(url, chat.conversation_id).agent_id == people.bob.id)
    conversation = bob.get(f"/api/conversations/{chat.conversation_id}").json()["conversation"]
    activities = [e["text"] for e in conversation["entries"] if e["kind"] == "activity"]
    assert activities == ["Handed to the general queue", "Assigned to Bob Chen (automatic)"]
    handoff = conversation["handoff"]
    assert (handoff["agent_name"], handoff["automatic"]) == ("Bob Chen", True)


def test_a_supervisor_is_auto_assigned_only_after_opting_in(
    maintained: Tuple[DeskServer, People],
) -> None:
    server, people = maintained
    url = server.database_url

    def others_offline() -> bool:
        with session_scope(url) as session:
            return all(
                get_agent(session, p.id).status == "offline" for p in (people.alice, people.bob)
            )

    wait_for(others_offline)  # earlier tests' consoles fell silent
    sue = DeskClient(server.url).login("sue")  # a supervisor signed in just to look
    olga = DeskClient(server.url).login("olga")
    assert sue.post("/api/heartbeat").status == 200
    chat = queue_chat(url, "+15550007003")
    for _ in range(6):  # several maintenance rounds (one a second): still waiting
        time.sleep(0.5)
        sue.post("/api/heartbeat")
    assert owner_of(url, chat.conversation_id).owner == "queue"
    path = f"/api/supervisor/agents/{people.sue.id}/auto-assign"
    assert olga.post(path, {"enabled": True}).status == 403  # agents cannot change it
    assert sue.post(path, {"enabled": "yes"}).status == 400
    assert sue.post("/api/supervisor/agents/999999/auto-assign", {"enabled": True}).status == 404
    assert sue.post(path, {"enabled": True}).json() == {
        "ok": True,
        "agent_id": people.sue.id,
        "auto_assign": True,
    }
    wait_for(lambda: owner_of(url, chat.conversation_id).agent_id == people.sue.id)
    agents = sue.get("/api/supervisor/overview").json()["overview"]["agents"]
    assert {a["username"]: a["auto_assign"] for a in agents} == {
        "alice": True,
        "bob": True,
        "olga": True,
        "sue": True,
    }
    sue.post("/api/status", {"status": "offline"})


def test_a_console_silent_for_a_while_keeps_its_chats_for_the_grace_period(
    maintained: Tuple[DeskServer, People],
) -> None:
    server, people = maintained
    url = server.database_url
    bob = DeskClient(server.url).login("bob")
    assert bob.post("/api/heartbeat").status == 200
    mine = queue_chat(url, "+15550007004")
    wait_for(lambda: owner_of(url, mine.conversation_id).agent_id == people.bob.id)
    # the phone puts the browser to sleep: past the heartbeat timeout, within the grace
    time.sleep(TIMEOUT + 1.0)
    other = queue_chat(url, "+15550007005")
    time.sleep(1.5)  # a maintenance round or more
    assert owner_of(url, mine.conversation_id).agent_id == people.bob.id  # still bob's
    assert owner_of(url, other.conversation_id).owner == "queue"  # no new chat for bob
    # the console wakes up within the grace period: bob keeps his chat and gets the new one
    assert bob.post("/api/heartbeat").status == 200
    wait_for(lambda: owner_of(url, other.conversation_id).agent_id == people.bob.id)
    assert owner_of(url, mine.conversation_id).agent_id == people.bob.id
    # then silent for good: after the timeout and the grace, both go back to the queue
    started = time.monotonic()
    wait_for(lambda: owner_of(url, mine.conversation_id).owner == "queue")
    assert time.monotonic() - started >= TIMEOUT + GRACE - 1.5
    assert owner_of(url, other.conversation_id).owner == "queue"
    with session_scope(url) as session:
        assert get_agent(session, people.bob.id).status == "offline"


def test_supervisors_and_health_see_whether_a_maintenance_loop_runs(
    maintained: Tuple[DeskServer, People], signed_in: Callable[[str], DeskClient]
) -> None:
    """The console with the loop beats: /health and the supervisor overview say it runs.
    A console without it on a database no loop serves says so: nobody is auto-assigned."""
    server, _people = maintained
    wait_for(lambda: DeskClient(server.url).get("/health").json().get("maintenance_alive"))
    sue = DeskClient(server.url).login("sue")
    assert sue.get("/api/supervisor/overview").json()["maintenance_alive"] is True
    idle_sue = signed_in("sue")  # the `desk` fixture's console runs no loop
    assert idle_sue.get("/api/supervisor/overview").json()["maintenance_alive"] is False
    health = DeskClient(idle_sue.base).get("/health")
    assert health.status == 200  # this console itself is fine: not taken out of a balancer
    assert health.json()["maintenance_alive"] is False and health.json()["status"] == "ok"
