"""Supervisor figures computed from rows created here (fixed clock), and over HTTP."""

from __future__ import annotations

import datetime as dt
from typing import Callable

import pytest

from bot.desk.figures import day_start, team_queues, today_figures
from bot.settings import Settings
from bot.store.db import session_scope
from bot.store.models import Conversation, HandoffRequest, Message
from tests.desk.client import DeskClient
from tests.desk.conftest import People
from tests.desk.helpers import agent_text_at, outbox_sends, queue_chat
from tests.desk.server import DeskServer

TZ = "America/New_York"
NOW = dt.datetime(2030, 6, 15, 16, 0)  # UTC; 12:00 in New York (EDT)
MIN = dt.timedelta(minutes=1)


def _texted(session, phone: str, at: dt.datetime) -> None:  # noqa: ANN001
    conversation = session.query(Conversation).filter_by(phone=phone).one_or_none()
    if conversation is None:
        conversation = Conversation(phone=phone, created_at=at)
        session.add(conversation)
        session.flush()
    session.add(
        Message(
            conversation_id=conversation.id,
            direction="in",
            author="customer",
            text="hi",
            status="processed",
            created_at=at,
        )
    )


def _handoff(session, phone: str, reason: str, created: dt.datetime, **times) -> None:  # noqa: ANN001
    status = (
        "resolved" if times.get("resolved_at") else "claimed" if times.get("claimed_at") else "open"
    )
    session.add(
        HandoffRequest(
            phone=phone, reason=reason, team="general", status=status, created_at=created, **times
        )
    )


def test_day_starts_at_local_midnight() -> None:
    assert day_start(NOW, TZ) == dt.datetime(2030, 6, 15, 4, 0)
    assert day_start(dt.datetime(2030, 6, 15, 3, 0), TZ) == dt.datetime(2030, 6, 14, 4, 0)
    assert day_start(dt.datetime(2030, 1, 15, 12, 0), TZ) == dt.datetime(2030, 1, 15, 5, 0)


def test_today_figures(database_url: str) -> None:
    p1, p2, p3, p4, p5 = (f"+1555300000{i}" for i in range(1, 6))
    yesterday = dt.datetime(2030, 6, 15, 3, 0)  # 23:00 the day before in New York
    with session_scope(database_url) as session:
        for phone in (p1, p2, p3, p4):
            _texted(session, phone, NOW - 60 * MIN)
        _texted(session, p1, NOW - 55 * MIN)  # two texts are still one conversation
        _texted(session, p5, yesterday)
        _texted(session, "+15553009999", NOW + 5 * MIN)  # after `now`: not counted
        start = NOW - 50 * MIN
        _handoff(
            session,
            p1,
            "asked",
            start,
            claimed_at=start + 2 * MIN,
            first_reply_at=start + 4 * MIN,  # written; sent a minute later
            resolved_at=start + 20 * MIN,
        )
        start2 = NOW - 30 * MIN
        _handoff(
            session,
            p2,
            "fallback",
            start2,
            claimed_at=start2 + MIN / 2,
        )
        start3 = NOW - 10 * MIN
        _handoff(session, p3, "asked", start3)
        agent_text_at(session, p1, 1, start + 4 * MIN, start + 5 * MIN)
        agent_text_at(session, p1, 1, start + 6 * MIN, start + 6 * MIN)  # not the first
        agent_text_at(session, p2, 1, start2 + MIN, start2 + MIN)
        agent_text_at(session, p3, 1, start3 + 2 * MIN, start3 + 2 * MIN)
        agent_text_at(session, p4, 1, NOW - 20 * MIN, None)  # no handoff; never sent
        _handoff(
            session,
            p5,
            "asked",
            yesterday,
            claimed_at=yesterday + 10 * MIN,
            resolved_at=yesterday + 90 * MIN,
        )
    with session_scope(database_url) as session:
        figures = today_figures(session, NOW, TZ)
    assert figures.since == dt.datetime(2030, 6, 15, 4, 0)
    assert (figures.conversations, figures.with_handoff, figures.contained) == (4, 3, 1)
    assert figures.containment == pytest.approx(0.25)
    assert figures.handoffs == 3  # p5's handoff was yesterday
    rates = {r.reason: (r.handoffs, r.conversations, r.rate) for r in figures.by_reason}
    assert rates == {"asked": (2, 2, 0.5), "fallback": (1, 1, 0.25)}
    assert [r.reason for r in figures.by_reason] == ["asked", "fallback"]
    # first human reply: 300 s, 60 s, 120 s
    assert figures.first_reply.count == 3
    assert figures.first_reply.median_seconds == pytest.approx(120)
    assert figures.first_reply.avg_seconds == pytest.approx(160)
    # handling: resolved today (p1: 18 min; p5 resolved at 04:30 UTC today: 80 min)
    assert figures.handling.count == 2
    assert figures.handling.avg_seconds == pytest.approx((18 * 60 + 80 * 60) / 2)


def test_no_conversations_means_no_rates(database_url: str) -> None:
    with session_scope(database_url) as session:
        figures = today_figures(session, NOW, TZ)
    assert figures.conversations == 0 and figures.containment is None
    assert figures.first_reply.median_seconds is None and figures.handling.avg_seconds is None


def test_team_queues(database_url: str) -> None:
    with session_scope(database_url) as session:
        for i, (team, minutes) in enumerate([("orders", 5), ("orders", 2), ("general", 1)]):
            session.add(
                Conversation(
                    phone=f"+155530100{i}", owner="queue", team=team, queued_at=NOW - minutes * MIN
                )
            )
        session.add(Conversation(phone="+15553010099", owner="bot"))
    with session_scope(database_url) as session:
        queues = {q.team: q for q in team_queues(session, ["bookings", "general", "orders"], NOW)}
    assert (queues["orders"].waiting, queues["orders"].longest_wait_seconds) == (2, 300)
    assert queues["orders"].oldest_queued_at == NOW - 5 * MIN
    assert (queues["general"].waiting, queues["general"].longest_wait_seconds) == (1, 60)
    assert (queues["bookings"].waiting, queues["bookings"].oldest_queued_at) == (0, None)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_supervisor_overview_over_http(
    desk: DeskServer, people: People, signed_in: Callable[[str], DeskClient]
) -> None:
    url = desk.database_url
    chats = [queue_chat(url, f"+155530200{i}", reason="fallback") for i in range(3)]
    alice = signed_in("alice")
    alice.post("/api/heartbeat")
    alice.post(f"/api/conversations/{chats[0].conversation_id}/claim")
    alice.post(f"/api/conversations/{chats[0].conversation_id}/reply", {"text": "hi"})
    overview = signed_in("sue").get("/api/supervisor/overview").json()["overview"]
    queues = {q["team"]: q for q in overview["queues"]}
    assert queues["general"]["waiting"] == 2 and queues["orders"]["waiting"] == 0
    assert queues["general"]["longest_wait_seconds"] >= 0
    agents = {a["username"]: a for a in overview["agents"]}
    assert (agents["alice"]["status"], agents["alice"]["load"]) == ("online", 1)
    assert agents["alice"]["capacity"] == 10 and agents["bob"]["status"] == "offline"
    assert [w["conversation_id"] for w in overview["waiting"]] == [
        c.conversation_id for c in chats[1:]
    ]
    today = overview["today"]
    with session_scope(url) as session:
        direct = today_figures(session, None, Settings.from_env().business_tz)
    assert today["conversations"] == direct.conversations >= 3
    assert today["handoffs"] == direct.handoffs == 3
    assert today["contained"] == direct.contained
    reasons = {r["reason"]: r for r in today["by_reason"]}
    assert reasons["fallback"]["handoffs"] == 3
    assert today["first_reply"]["count"] == 0  # alice's reply has not left yet
    assert outbox_sends(url, "+1555302000") == 1
    today = signed_in("sue").get("/api/supervisor/overview").json()["overview"]["today"]
    assert today["first_reply"]["count"] == 1 and today["first_reply"]["median_seconds"] >= 0
