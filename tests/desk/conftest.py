"""Desk fixtures: a console server per database, agents, signed-in API clients."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Dict, Iterator

import pytest

from bot.desk.agents import AgentView, create_agent
from bot.store.db import session_scope
from tests.browser.conftest import browser, save_screenshot  # noqa: F401
from tests.desk.client import DeskClient
from tests.desk.server import DeskServer

if TYPE_CHECKING:
    from tests.desk.stack import Stack

PASSWORD = "password123"


@dataclass
class People:
    alice: AgentView  # agent: general, orders, bookings
    bob: AgentView  # agent: general, orders, bookings
    olga: AgentView  # agent: orders only
    sue: AgentView  # supervisor


def make_people(url: str) -> People:
    with session_scope(url) as session:
        every = ("general", "orders", "bookings")
        return People(
            create_agent(session, "alice", "Alice Moreno", PASSWORD, teams=every),
            create_agent(session, "bob", "Bob Chen", PASSWORD, teams=every),
            create_agent(session, "olga", "Olga Ivanova", PASSWORD, teams=("orders",)),
            create_agent(session, "sue", "Sue Park", PASSWORD, role="supervisor", teams=every),
        )


@pytest.fixture(scope="session")
def desk_servers(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[str], DeskServer]]:
    """One console server per database URL, started on first use, stopped at the end."""
    servers: Dict[str, DeskServer] = {}
    logs = tmp_path_factory.mktemp("desk-logs")

    def server_for(url: str) -> DeskServer:
        if url not in servers:
            servers[url] = DeskServer(url, logs).start()
        return servers[url]

    yield server_for
    for server in servers.values():
        server.stop()


@pytest.fixture
def desk(database_url: str, desk_servers: Callable[[str], DeskServer]) -> DeskServer:
    return desk_servers(database_url)


@pytest.fixture
def people(database_url: str) -> People:
    return make_people(database_url)


@pytest.fixture
def signed_in(desk: DeskServer, people: People) -> Callable[[str], DeskClient]:
    """signed_in("alice") -> a client with a live session."""
    return lambda username: DeskClient(desk.url).login(username, PASSWORD)


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory, trained_model: Path) -> Iterator["Stack"]:
    """The whole SMS setup and a console on one SQLite database, shared by every browser
    test of this package (started on first use, stopped after the package's last test)."""
    from tests.desk.stack import start_stack, stop_stack

    running = start_stack(tmp_path_factory.mktemp("desk-e2e"), trained_model)
    try:
        yield running
    finally:
        stop_stack(running)
