"""Flat cost with history: the bench's smoke run, and sessions rolling over."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator, List

import pytest
from sqlalchemy import create_engine, select, text

from bench.history_cost import run, tracker_url
from bot.desk.transcript import conversation_detail
from bot.launcher import BOT_TRACKER_STORE, RasaStack, start_stack
from bot.rasa_ext.session_rollover import DEFAULT_MAX_EVENTS
from bot.store.db import session_scope
from bot.store.models import Conversation
from bot.store.seed import ALEX
from tests.conftest import POSTGRES_ADMIN_URL
from tests.sms_harness import SmsSetup
from tests.test_e2e_rest import say

pytestmark = pytest.mark.slow

TURN_EVENTS = 15  # the most events one text of the bench adds (user, slots, actions, replies)
SMALL_LIMIT = 30
FAQS = ("is there free wifi", "do you have parking", "what time is check out")


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_history_bench_smoke(db: str, trained_model: Path, tmp_path: Path) -> None:
    """What a message reads stays bounded; latency ratios within a noisy box's margin."""
    result = run(
        db, smoke=True, admin_url=POSTGRES_ADMIN_URL, model=trained_model, log_dir=tmp_path
    )
    long, past = result["long"], result["history"]
    bound = DEFAULT_MAX_EVENTS + TURN_EVENTS  # independent of the conversation's length
    assert long["far"]["events_read_max"] <= bound
    assert max(long["session_events_every_10"]) <= bound
    assert past["old"]["events_read_max"] <= bound
    assert past["past_events_per_customer"] >= 5000 and past["past_sessions"] >= 200
    assert result["unexpected_replies"] == []
    # targets 1.3x and 1.2x; margins for a shared 2-core machine (before the fix: 6.6x, 1.4x)
    assert long["ratio"] <= 2.0, long
    assert past["ratio"] <= 1.5, past


def events(url: str, sender: str) -> List[dict]:
    engine = create_engine(tracker_url(url), future=True)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT data FROM events WHERE sender_id = :s ORDER BY id"), {"s": sender}
            ).scalars()
            return [json.loads(r) for r in rows]
    finally:
        engine.dispose()


def sessions(stored: List[dict]) -> List[List[dict]]:
    """Stored events split at each session_started (the first part: before any)."""
    parts: List[List[dict]] = [[]]
    for e in stored:
        if e["event"] == "session_started":
            parts.append([])
        parts[-1].append(e)
    return parts


@pytest.fixture
def small_sessions(database_url: str, trained_model: Path, tmp_path: Path) -> Iterator[RasaStack]:
    credentials = tmp_path / "credentials.yml"
    credentials.write_text("rest:\n")
    store = f"{BOT_TRACKER_STORE}\n  session_max_events: {SMALL_LIMIT}"
    with start_stack(
        trained_model,
        env={"DATABASE_URL": database_url},
        log_dir=tmp_path,
        credentials=credentials,
        tracker_store=store,
    ) as stack:
        yield stack


def forget(url: str, sender: str) -> None:
    """Drop a sender's stored events (other tests of this session talked to them too)."""
    engine = create_engine(tracker_url(url), future=True)
    try:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM events WHERE sender_id = :s"), {"s": sender})
    finally:
        engine.dispose()


def test_sessions_roll_over_and_keep_the_order(
    small_sessions: RasaStack, database_url: str
) -> None:
    forget(database_url, ALEX)
    texts = ["where is my order A1001"] + [FAQS[k % 3] for k in range(11)]
    for t in texts:
        assert say(small_sessions, ALEX, t)
    parts = sessions(events(database_url, ALEX))
    assert len(parts) >= 3  # [before], the first session, at least one roll-over
    assert all(len(p) <= SMALL_LIMIT + TURN_EVENTS for p in parts[1:])
    for later in parts[2:]:  # each roll-over carries the order over
        slots = [(e["name"], e["value"]) for e in later[:3] if e["event"] == "slot"]
        assert ("order_number", "A1001") in slots
    # every text is still stored, in order, across the sessions
    assert [e["text"] for e in events(database_url, ALEX) if e["event"] == "user"] == texts
    # the carried order answers a follow-up that names none (else: a list of both orders)
    [reply] = say(small_sessions, ALEX, "track my order")
    assert "A1001 has shipped" in reply and "A1002" not in reply
    # saying goodbye closes the topic: the next text starts a session of its own
    before = len(sessions(events(database_url, ALEX)))
    say(small_sessions, ALEX, "bye")
    say(small_sessions, ALEX, "hi")
    assert len(sessions(events(database_url, ALEX))) == before + 1


def test_agents_see_every_text_across_sessions(trained_model: Path, tmp_path: Path) -> None:
    from bot.store.migrate import upgrade
    from bot.store.seed import seed

    url = f"sqlite:///{tmp_path / 'bot.store.db'}"
    upgrade(url)
    with session_scope(url) as db:
        seed(db)
    setup = SmsSetup(url, trained_model, tmp_path, extra_env={"SESSION_MAX_EVENTS": "30"})
    setup.start()
    try:
        texts = [FAQS[k % 3] for k in range(10)]
        for t in texts:
            assert setup.ask(ALEX, t)
    finally:
        setup.stop()
    assert len(sessions(events(url, ALEX))) >= 3
    with session_scope(url) as db:
        conversation_id = db.execute(
            select(Conversation.id).where(Conversation.phone == ALEX)
        ).scalar_one()
        detail = conversation_detail(db, conversation_id)
    assert detail is not None
    said = [e.text for e in detail.entries if e.kind == "message" and e.author == "customer"]
    assert said == texts
    assert sum(1 for e in detail.entries if e.kind == "message" and e.author == "bot") >= 10
