"""Two agents claiming the same chats at the same moment: exactly one wins each chat.
Runs on SQLite and PostgreSQL (the `database_url` fixture's two parameters)."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, List

from sqlalchemy import select

from bot.store.db import session_scope
from bot.store.models import Conversation, DeskEvent, HandoffRequest
from bot.store.ownership import claim
from tests.desk.client import DeskClient
from tests.desk.conftest import People
from tests.desk.helpers import queue_chat
from tests.desk.server import DeskServer

CHATS = 20


def _queue(url: str, count: int, prefix: str) -> List[int]:
    return [queue_chat(url, f"+1555{prefix}{i:04d}").conversation_id for i in range(count)]


def test_parallel_sessions_hammering_claim(database_url: str, people: People) -> None:
    ids = _queue(database_url, CHATS, "100")
    agents = [people.alice.id, people.bob.id]
    barrier = threading.Barrier(len(agents))
    wins: Counter = Counter()
    lock = threading.Lock()

    def hammer(agent_id: int) -> None:
        for conversation_id in ids:
            barrier.wait()  # both agents go for the same chat at the same moment
            with session_scope(database_url) as session:
                won = claim(session, conversation_id, agent_id)
            if won:
                with lock:
                    wins[conversation_id] += 1

    with ThreadPoolExecutor(len(agents)) as pool:
        for future in [pool.submit(hammer, a) for a in agents]:
            future.result()

    assert set(wins) == set(ids) and set(wins.values()) == {1}
    with session_scope(database_url) as session:
        rows = session.execute(select(Conversation).where(Conversation.id.in_(ids))).scalars()
        owners = {c.id: (c.owner, c.agent_id) for c in rows}
        claimed_events = (
            session.execute(select(DeskEvent.conversation_id).where(DeskEvent.kind == "claimed"))
            .scalars()
            .all()
        )
        handoffs = session.execute(select(HandoffRequest)).scalars().all()
    assert all(owner == "agent" and agent in agents for owner, agent in owners.values())
    assert sorted(claimed_events) == sorted(ids)  # one claim event per chat, not two
    by_handoff = {h.phone: h for h in handoffs}
    assert all(h.status == "claimed" and h.agent_id in agents for h in by_handoff.values())


def test_two_consoles_claim_the_same_chats_over_http(
    desk: DeskServer, people: People, signed_in: Callable[[str], DeskClient]
) -> None:
    ids = _queue(desk.database_url, 8, "200")
    consoles = [signed_in("alice"), signed_in("bob")]
    barrier = threading.Barrier(len(consoles))
    statuses: dict = {i: [] for i in ids}

    def go(console: DeskClient) -> None:
        for conversation_id in ids:
            barrier.wait()
            response = console.post(f"/api/conversations/{conversation_id}/claim")
            statuses[conversation_id].append((response.status, response.json()))

    with ThreadPoolExecutor(len(consoles)) as pool:
        for future in [pool.submit(go, c) for c in consoles]:
            future.result()

    for conversation_id, results in statuses.items():
        codes = sorted(code for code, _ in results)
        assert codes == [200, 409], (conversation_id, results)
        loser = next(body for code, body in results if code == 409)
        assert loser["error"] == "already taken"
    alice_chats = consoles[0].get("/api/my-chats").json()["items"]
    bob_chats = consoles[1].get("/api/my-chats").json()["items"]
    assert sorted(c["conversation_id"] for c in alice_chats + bob_chats) == sorted(ids)
