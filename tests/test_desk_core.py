"""Conversation ownership, the queue and routing on real SQLite and PostgreSQL databases."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from bot.desk import agents, routing
from bot.desk.hours import describe_opening, is_open, next_opening
from bot.desk.maintenance import maintain_once
from bot.desk.maintenance_beat import FRESH_SECONDS, last_beat, maintenance_alive, record_beat
from bot.desk.notices import ASSIGNING_NOW, handoff_notice
from bot.settings import Settings
from bot.store import ownership
from bot.store.db import session_scope
from bot.store.models import (
    Conversation,
    DeskMaintenanceBeat,
    OutboundText,
    OutboxMessage,
    utcnow,
)
from bot.store.seed import ALEX, PRIYA, SAM


def make_agent(username: str, teams=("general",), capacity: int = 10, online: bool = True):
    with session_scope() as session:
        agent = agents.create_agent(
            session, username, username.title(), "password123", teams=teams, capacity=capacity
        )
        if online:
            agents.heartbeat(session, agent.id)
    return agent


def queue_up(phone: str, team: str = "general", reason: str = "asked") -> ownership.Ownership:
    with session_scope() as session:
        return ownership.hand_to_queue(session, phone, reason, team)


def test_handoff_queues_once_and_tells_the_position(database_url: str) -> None:
    first = queue_up(ALEX)
    again = queue_up(ALEX)
    second = queue_up(SAM)
    assert first.owner == "queue" and again.handoff_id == first.handoff_id
    with session_scope() as session:
        assert routing.queue_position(session, first.conversation_id) == 1
        assert routing.queue_position(session, second.conversation_id) == 2
        notice = handoff_notice(session, ownership.ownership_of(session, SAM), Settings.from_env())
    assert notice.response == "utter_handoff_queued" and notice.values["position"] == "2"
    assert notice.values["wait"] == "a few minutes"  # no history yet


def notice_for(phone: str):  # noqa: ANN201
    with session_scope() as session:
        return handoff_notice(session, ownership.ownership_of(session, phone), Settings.from_env())


def beat(seconds_ago: float) -> None:
    with session_scope() as session:
        record_beat(session, utcnow() - dt.timedelta(seconds=seconds_ago))


def test_assignment_is_promised_only_while_a_maintenance_loop_beats(database_url: str) -> None:
    """A free agent is not enough: without a live maintenance loop nobody would assign the
    chat, so the texter gets the queued notice (place in line, typical wait)."""
    make_agent("ann")
    queue_up(ALEX)
    never = notice_for(ALEX)  # no loop has ever run on this database
    assert never.response == "utter_handoff_queued" and never.text is None
    assert never.values == {"position": "1", "wait": "a few minutes"}
    beat(FRESH_SECONDS + 5)  # the loop died a while ago
    assert notice_for(ALEX).response == "utter_handoff_queued"
    beat(1)
    fresh = notice_for(ALEX)
    assert (fresh.response, fresh.text) == ("utter_handoff_with_agent", ASSIGNING_NOW)
    with session_scope() as session:  # the row is rewritten, not added to
        assert session.query(DeskMaintenanceBeat).count() == 1


def test_a_maintenance_round_records_the_beat(database_url: str) -> None:
    with session_scope() as session:
        assert last_beat(session) is None and not maintenance_alive(session)
    before = utcnow()
    maintain_once(Settings.from_env())
    with session_scope() as session:
        recorded = last_beat(session)
        assert recorded is not None and recorded.beat_at >= before
        assert recorded.host and recorded.pid > 0
        assert maintenance_alive(session)
        later = recorded.beat_at + dt.timedelta(seconds=FRESH_SECONDS + 1)
        assert not maintenance_alive(session, now=later)


def test_only_one_agent_wins_a_claim(database_url: str) -> None:
    a, b = make_agent("ann"), make_agent("bob")
    chats = [queue_up(f"+1500555{i:04d}").conversation_id for i in range(20)]
    wins: dict = {a.id: [], b.id: []}

    def grab(agent_id: int) -> None:
        for chat in chats:
            with session_scope() as session:
                if ownership.claim(session, chat, agent_id):
                    wins[agent_id].append(chat)

    threads = [threading.Thread(target=grab, args=(x.id,)) for x in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins[a.id] + wins[b.id]) == sorted(chats)
    assert not set(wins[a.id]) & set(wins[b.id])
    with session_scope() as session:
        owners = {c: ownership.ownership_by_id(session, c).agent_id for c in chats}
    assert all(owners[c] == a.id for c in wins[a.id])


def test_auto_assign_least_loaded_right_team_within_capacity(database_url: str) -> None:
    orders = make_agent("olga", teams=("orders",), capacity=2)
    general = make_agent("gus", teams=("general",))
    make_agent("offline", teams=("orders",), online=False)
    o1, o2, o3 = (queue_up(p, "orders").conversation_id for p in (ALEX, SAM, PRIYA))
    g1 = queue_up("+15005550009", "general").conversation_id
    with session_scope() as session:
        assigned = routing.auto_assign(session)
    assert sorted(assigned) == sorted([(o1, orders.id), (o2, orders.id), (g1, general.id)])
    with session_scope() as session:
        assert ownership.ownership_by_id(session, o3).owner == "queue"  # capacity reached
        assert routing.queue_position(session, o3) == 1


def test_transfer_resolve_and_handback(database_url: str) -> None:
    ann, bob = make_agent("ann"), make_agent("bob", teams=("orders",))
    chat = queue_up(ALEX).conversation_id
    with session_scope() as session:
        assert ownership.claim(session, chat, ann.id)
        assert not ownership.resolve(session, chat, bob.id)  # not bob's chat
        assert ownership.transfer(
            session, chat, ann.id, "customer asks about A1001", to_team="orders"
        )
        assert ownership.ownership_by_id(session, chat).owner == "queue"
    with session_scope() as session:
        assert ownership.claim(session, chat, bob.id)
        assert ownership.transfer(session, chat, bob.id, "over to you", to_agent_id=ann.id)
        assert ownership.resolve(session, chat, ann.id)
        current = ownership.ownership_by_id(session, chat)
    assert current.owner == "bot" and current.agent_id is None
    with session_scope() as session:
        assert ownership.take_handback(session, ALEX)
        assert not ownership.take_handback(session, ALEX)  # once


def test_offline_agent_chats_go_back_to_the_head_of_the_queue(database_url: str) -> None:
    ann = make_agent("ann")
    early = queue_up(ALEX).conversation_id
    with session_scope() as session:
        assert ownership.claim(session, early, ann.id)
    later = queue_up(SAM).conversation_id
    with session_scope() as session:
        assert agents.set_status(session, ann.id, "offline") == 1
        assert routing.queue_position(session, early) == 1
        assert routing.queue_position(session, later) == 2


def test_silent_agents_expire_and_long_waiters_get_the_offer(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ann = make_agent("ann")
    chat = queue_up(ALEX).conversation_id
    with session_scope() as session:
        ownership.claim(session, chat, ann.id)
    monkeypatch.setenv("AGENT_HEARTBEAT_TIMEOUT_SECONDS", "0")
    monkeypatch.setenv("UNCLAIMED_OFFER_SECONDS", "0")
    monkeypatch.setenv("DESK_PRESENCE_GRACE_SECONDS", "60")
    # silent, but within the grace period: ann keeps the chat
    assert maintain_once(Settings.from_env())["expired_agents"] == 0
    with session_scope() as session:
        assert ownership.ownership_by_id(session, chat).agent_id == ann.id
    monkeypatch.setenv("DESK_PRESENCE_GRACE_SECONDS", "0")
    done = maintain_once(Settings.from_env())
    assert done["expired_agents"] == 1 and done["offered"] == 1
    with session_scope() as session:
        assert ownership.ownership_by_id(session, chat).owner == "queue"
        offers = session.query(OutboxMessage).filter_by(phone=ALEX, kind="wait_offer").all()
        assert len(offers) == 1 and "Reply BOT" in offers[0].text
        record = session.query(OutboundText).filter_by(phone=ALEX, kind="wait_offer").one()
        assert (record.status, record.outbox_id) == ("queued", offers[0].id)
    assert maintain_once(Settings.from_env())["offered"] == 0  # only once


def test_business_hours() -> None:
    settings = Settings(
        business_hours="09:00-18:00",
        business_days="mon,tue,wed,thu,fri",
        business_tz="America/New_York",
    )
    saturday_noon = dt.datetime(2026, 11, 28, 17, 0, tzinfo=dt.timezone.utc)  # 12:00 NY
    tuesday_10 = dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.timezone.utc)  # 10:00 NY
    monday_7 = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.timezone.utc)  # 07:00 NY
    assert not is_open(saturday_noon, settings) and is_open(tuesday_10, settings)
    assert describe_opening(next_opening(saturday_noon, settings), saturday_noon) == "Mon 9:00"
    assert describe_opening(next_opening(monday_7, settings), monday_7) == "9:00"


def test_closed_hours_notice(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUSINESS_DAYS", "")  # never open
    queue_up(ALEX)
    with session_scope() as session:
        notice = handoff_notice(session, ownership.ownership_of(session, ALEX), Settings.from_env())
        conversation = session.query(Conversation).filter_by(phone=ALEX).one()
    assert notice.response == "utter_handoff_closed" and conversation.owner == "queue"
