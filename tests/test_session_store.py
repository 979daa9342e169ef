"""The tracker store reads one session on indexed queries and saves without counting."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Iterator, List

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from sqlalchemy import event as sa_event
from sqlalchemy import text

from bot.rasa_ext.session_store import INDEXES, LATEST_SESSION_START, latest_session_start
from bot.rasa_ext.tracker_store import BotSQLTrackerStore
from bot.settings import PROJECT_ROOT, Settings


@pytest.fixture
def store(database_url: str) -> Iterator[BotSQLTrackerStore]:
    domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    yield BotSQLTrackerStore(
        domain=domain, url=Settings(database_url=database_url).tracker_database_url
    )


def sender() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


def turn(t: float, text: str) -> List[Event]:
    """One exchange of a session, timestamped from `t`."""
    return [
        UserUttered(text, {"name": "greet", "confidence": 1.0}, timestamp=t),
        ActionExecuted("utter_greet", timestamp=t + 0.1),
        BotUttered("hello", timestamp=t + 0.2),
        ActionExecuted("action_listen", timestamp=t + 0.3),
    ]


def session(t: float, turns: int) -> List[Event]:
    """A whole session starting at `t` (as Rasa writes it)."""
    events: List[Event] = [
        ActionExecuted("action_session_start", timestamp=t),
        SessionStarted(timestamp=t + 0.01),
        ActionExecuted("action_listen", timestamp=t + 0.02),
    ]
    for k in range(turns):
        events += turn(t + 1 + k, f"text {k}")
    return events


def write(store: BotSQLTrackerStore, sender_id: str, events: List[Event]) -> None:
    with store.session_scope() as db:
        for e in events:
            data = e.as_dict()
            db.add(
                store.SQLEvent(
                    sender_id=sender_id,
                    type_name=e.type_name,
                    timestamp=e.timestamp,
                    data=json.dumps(data),
                )
            )
        db.commit()


def ids(store: BotSQLTrackerStore, sender_id: str, all_sessions: bool, stock: bool) -> List[int]:
    query = SQLTrackerStore._event_query if stock else store._event_query
    with store.session_scope() as db:
        return (
            [e.id for e in query(store, db, sender_id, all_sessions)]
            if stock
            else [e.id for e in query(db, sender_id, all_sessions)]
        )


def test_reads_the_same_rows_as_rasa(store: BotSQLTrackerStore) -> None:
    who, newcomer = sender(), sender()
    write(store, who, session(1000.0, 3) + session(5000.0, 2) + session(9000.0, 4))
    write(store, newcomer, turn(100.0, "no session yet"))
    for s in (who, newcomer):
        for all_sessions in (False, True):
            assert ids(store, s, all_sessions, stock=False) == ids(store, s, all_sessions, True)
    tracker = asyncio.run(store.retrieve(who))
    assert tracker is not None and len(tracker.events) == 2 + 4 * 4  # session_started on
    assert asyncio.run(store.retrieve(sender())) is None


def statements_during(store: BotSQLTrackerStore, action) -> List[str]:  # noqa: ANN001
    seen: List[str] = []

    def record(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        seen.append(statement.lower())

    sa_event.listen(store.engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        sa_event.remove(store.engine, "before_cursor_execute", record)
    return seen


def test_saving_a_read_tracker_appends_without_counting(store: BotSQLTrackerStore) -> None:
    who = sender()
    write(store, who, session(1000.0, 3))
    tracker = asyncio.run(store.retrieve(who))
    assert tracker is not None
    for e in turn(2000.0, "more"):
        tracker.update(e)
    seen = statements_during(store, lambda: asyncio.run(store.save(tracker)))
    assert not any("count(" in s for s in seen) and any("insert" in s for s in seen)
    asyncio.run(store.save(tracker))  # nothing new: nothing written twice
    assert len(ids(store, who, True, stock=False)) == 15 + 4


def test_a_session_started_in_memory_is_saved_once(store: BotSQLTrackerStore) -> None:
    """After a roll-over the tracker holds both sessions; each event is stored once."""
    who = sender()
    write(store, who, session(1000.0, 3))
    tracker = asyncio.run(store.retrieve(who))
    assert tracker is not None
    new = [SessionStarted(timestamp=3000.0), SlotSet("order_number", "A1001", timestamp=3000.1)]
    for e in new + [ActionExecuted("action_listen", timestamp=3000.2)] + turn(3001.0, "x"):
        tracker.update(e)
    asyncio.run(store.save(tracker))
    tracker.update(UserUttered("again", timestamp=3010.0))
    asyncio.run(store.save(tracker))
    assert len(ids(store, who, True, stock=False)) == 15 + 3 + 4 + 1
    fresh = asyncio.run(store.retrieve(who))
    assert fresh is not None and len(fresh.events) == 3 + 4 + 1
    assert fresh.get_slot("order_number") == "A1001"


def test_history_queries_use_the_indexes(store: BotSQLTrackerStore) -> None:
    """With a lifetime of sessions stored (and statistics), neither query visits them all."""
    who = sender()
    history: List[Event] = []
    for k in range(150):
        history += session(1000.0 + 100.0 * k, 2)
    write(store, who, history)
    for _ in range(400):  # other customers: one sender is a small part of the table
        write(store, sender(), session(500.0, 2))
    last = 1000.0 + 100.0 * 149 + 0.01
    names = [s.split(" ON ")[0].split()[-1] for s in INDEXES]
    with store.session_scope() as db:
        db.execute(text("ANALYZE events"))
        assert latest_session_start(db, who) == last
        if db.bind.dialect.name == "postgresql":
            explain = "EXPLAIN "
        else:
            explain = "EXPLAIN QUERY PLAN "
        start_plan = db.execute(text(explain + LATEST_SESSION_START.text), {"sender_id": who})
        compiled = store._event_query(db, who, False).statement.compile(
            db.bind, compile_kwargs={"literal_binds": True}
        )
        range_plan = db.execute(text(explain + str(compiled)))
        plans = [" ".join(str(r) for r in plan) for plan in (start_plan, range_plan)]
    assert names[0] in plans[0], plans[0]
    assert names[1] in plans[1], plans[1]
