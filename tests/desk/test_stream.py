"""The live stream over real HTTP: auth, events from the database, heartbeat, resume."""

from __future__ import annotations

import json
import queue
import socket
import threading
import time
import urllib.request
from typing import Callable, Dict, List, Optional

import pytest
from sqlalchemy import update

from bot.desk.agents import get_agent
from bot.sms import outbox
from bot.store.db import session_scope
from bot.store.models import OutboxMessage
from tests.desk.client import DeskClient
from tests.desk.conftest import People
from tests.desk.helpers import queue_chat
from tests.desk.server import DeskServer

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


class Stream:
    """Reads an SSE response in a thread; `next(kind)` waits for an event of that kind."""

    def __init__(self, client: DeskClient, last_event_id: Optional[str] = None) -> None:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in client.cookies.items())}
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        request = urllib.request.Request(client.base + "/api/stream", headers=headers)
        self.response = urllib.request.urlopen(request, timeout=30)
        self.socket = self.response.fp.raw._sock  # to unblock the reader on close
        self.events: "queue.Queue[Dict]" = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        event: Dict = {}
        try:
            for raw in self.response:
                line = raw.decode("utf-8").rstrip("\n")
                if not line:
                    if event:
                        self.events.put(event)
                    event = {}
                elif not line.startswith(":"):
                    key, _, value = line.partition(": ")
                    event[key] = json.loads(value) if key == "data" else value
        except Exception:  # noqa: BLE001 - closed by the test (from another thread)
            pass

    def next(self, event_type: str, timeout: float = 10, **match: object) -> Dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                event = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            data = event.get("data") or {}
            if event.get("event") == event_type and all(data.get(k) == v for k, v in match.items()):
                return event
        raise AssertionError(f"no {event_type} event matching {match} within {timeout}s")

    def close(self) -> None:
        try:
            self.socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.reader.join(timeout=5)
        self.response.close()


def test_stream_sends_desk_events_from_the_database(
    desk: DeskServer, people: People, signed_in: Callable[[str], DeskClient]
) -> None:
    alice, bob = signed_in("alice"), signed_in("bob")
    stream = Stream(alice)
    try:
        assert stream.response.headers["Content-Type"].startswith("text/event-stream")
        assert stream.response.headers["Cache-Control"] == "no-store"
        hello = stream.next("hello")
        assert hello["data"] == {"agent_id": people.alice.id} and hello["id"].isdigit()
        # opening the console is a heartbeat: alice is online
        status = stream.next("desk", kind="agent_status", agent_id=people.alice.id)
        assert status["data"]["topics"] == ["agent_status"]
        with session_scope(desk.database_url) as session:
            assert get_agent(session, people.alice.id).status == "online"
        # another process (here: the test) queues a chat; another agent claims it
        chat = queue_chat(desk.database_url, "+15550005001")
        queued = stream.next("desk", kind="queued", conversation_id=chat.conversation_id)
        assert queued["data"]["team"] == "general" and queued["id"].isdigit()
        assert queued["data"]["topics"] == ["queue", "my_chats", "conversation"]
        assert bob.post(f"/api/conversations/{chat.conversation_id}/claim").status == 200
        stream.next("desk", kind="claimed", agent_id=people.bob.id)
        # a reply's delivery status change reaches the stream as a conversation change
        bob.post(f"/api/conversations/{chat.conversation_id}/reply", {"text": "hello"})
        stream.next("desk", kind="agent_reply", conversation_id=chat.conversation_id)
        with session_scope(desk.database_url) as session:
            row = session.query(OutboxMessage).one()
            outbox.mark_sent(session, row.id, "uuid-1")
        changed = stream.next("conversation", conversation_id=chat.conversation_id)
        assert changed["data"]["topics"] == ["conversation"] and "id" not in changed
        with session_scope(desk.database_url) as session:
            outbox.apply_status_callback(session, "uuid-1", "delivered", None)
        stream.next("conversation", conversation_id=chat.conversation_id)
    finally:
        stream.close()


def test_reconnecting_stream_resumes_after_last_event_id_without_heartbeat(
    desk: DeskServer, people: People, signed_in: Callable[[str], DeskClient]
) -> None:
    alice = signed_in("alice")
    first = Stream(alice)
    last_id = first.next("hello")["id"]
    first.close()
    assert alice.post("/api/status", {"status": "offline"}).status == 200
    missed: List = [queue_chat(desk.database_url, f"+1555000510{i}") for i in range(2)]
    second = Stream(alice, last_event_id=last_id)
    try:
        for chat in missed:  # events from while the browser was away are replayed
            second.next("desk", kind="queued", conversation_id=chat.conversation_id)
        time.sleep(0.5)
    finally:
        second.close()
    with session_scope(desk.database_url) as session:  # a reconnect is not "opening"
        assert get_agent(session, people.alice.id).status == "offline"


def test_stream_needs_a_live_session(
    desk: DeskServer, people: People, signed_in: Callable[[str], DeskClient]
) -> None:
    alice = signed_in("alice")
    alice.post("/logout")
    with pytest.raises(urllib.error.HTTPError) as refused:
        Stream(alice)
    assert refused.value.code == 401
    refused.value.close()


def test_outbox_rows_of_the_past_do_not_replay(
    desk: DeskServer, people: People, signed_in: Callable[[str], DeskClient]
) -> None:
    chat = queue_chat(desk.database_url, "+15550005201")
    with session_scope(desk.database_url) as session:
        outbox.enqueue(session, "+15550005201", "old reply")
        session.execute(update(OutboxMessage).values(updated_at=OutboxMessage.created_at - _hour()))
    stream = Stream(signed_in("alice"))
    try:
        stream.next("hello")
        with pytest.raises(AssertionError):
            stream.next("conversation", timeout=1.5, conversation_id=chat.conversation_id)
    finally:
        stream.close()


def _hour():  # noqa: ANN202
    import datetime as dt

    return dt.timedelta(hours=1)
