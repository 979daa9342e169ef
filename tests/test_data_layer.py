"""The data layer against real SQLite and PostgreSQL databases."""

from __future__ import annotations

import datetime as dt
from typing import Optional

import pytest

from bot.settings import Settings
from bot.store.bookings import (
    cancel_request_for_phone,
    create_booking_request,
    open_requests_for_phone,
)
from bot.store.db import session_scope
from bot.store.handoffs import open_handoffs, record_handoff, team_for
from bot.store.orders import find_order_for_phone, recent_orders_for_phone
from bot.store.seed import ALEX, SAM


def test_order_is_found_only_for_its_owner(database_url: str) -> None:
    with session_scope() as session:
        mine = find_order_for_phone(session, ALEX, "a1001")
        theirs = find_order_for_phone(session, SAM, "A1001")
        unknown = find_order_for_phone(session, ALEX, "Z9999")
    assert mine is not None and mine.carrier == "UPS" and mine.status == "shipped"
    assert mine.tracking_number == "1Z999AA10123456784"
    assert mine.eta == dt.date.today() + dt.timedelta(days=2)
    assert theirs is None and unknown is None


def test_recent_orders_newest_first(database_url: str) -> None:
    with session_scope() as session:
        numbers = [o.number for o in recent_orders_for_phone(session, ALEX)]
    assert numbers == ["A1002", "A1001"]


def test_booking_request_lifecycle(database_url: str) -> None:
    start = dt.date.today() + dt.timedelta(days=10)
    with session_scope() as session:
        created = create_booking_request(
            session, ALEX, start, start + dt.timedelta(days=2), 2, "king", "2 beds"
        )
    assert created.status == "requested" and created.ref == f"R{created.id}"
    with session_scope() as session:
        refs = [b.ref for b in open_requests_for_phone(session, ALEX)]
        # another phone cannot cancel it
        assert cancel_request_for_phone(session, SAM, created.id) is None
    assert refs == [created.ref]
    with session_scope() as session:
        cancelled = cancel_request_for_phone(session, ALEX, created.id)
    assert cancelled is not None and cancelled.status == "cancelled"
    with session_scope() as session:
        assert open_requests_for_phone(session, ALEX) == []
        assert cancel_request_for_phone(session, ALEX, created.id) is None


def test_new_phone_gets_a_customer_record(database_url: str) -> None:
    start = dt.date.today() + dt.timedelta(days=3)
    with session_scope() as session:
        create_booking_request(
            session, "+15005559999", start, start + dt.timedelta(days=1), 1, None, None
        )
    with session_scope() as session:
        assert len(open_requests_for_phone(session, "+15005559999")) == 1


def test_handoff_is_recorded_once_while_open(database_url: str) -> None:
    with session_scope() as session:
        first = record_handoff(session, ALEX, "asked", "general", "talk to a human")
        again = record_handoff(session, ALEX, "fallback", "general", "???")
    assert first.id == again.id
    with session_scope() as session:
        pending = open_handoffs(session)
    assert [(h.phone, h.reason, h.team) for h in pending] == [(ALEX, "asked", "general")]


@pytest.mark.parametrize(
    ("reason", "topic", "named", "configured", "team"),
    [
        # an explicit ask for a person: the team for asks (default general) ...
        ("asked", None, None, "", "general"),
        ("asked", "bookings", None, "", "general"),  # an earlier topic does not pull it
        ("asked", None, None, "asked=frontdesk", "frontdesk"),
        ("asked", "bookings", None, "asked=frontdesk", "frontdesk"),
        # ... unless the same text named a topic ("I need a human, my order never arrived")
        ("asked", None, "orders", "asked=frontdesk", "orders"),
        ("asked", "bookings", "orders", "", "orders"),
        ("asked", None, "vip", "asked=frontdesk", "frontdesk"),  # not a topic team
        # other reasons follow the conversation's topic, else the reason's team
        ("fallback", "bookings", None, "", "bookings"),
        ("fallback", None, None, "fallback=vip", "vip"),
        ("order_issue", None, None, "", "orders"),
        ("action_error", None, "orders", "asked=frontdesk", "general"),
    ],
)
def test_the_team_a_handoff_goes_to(
    reason: str, topic: Optional[str], named: Optional[str], configured: str, team: str
) -> None:
    settings = Settings.from_env({"HANDOFF_TEAMS": configured} if configured else {})
    assert team_for(reason, topic, settings.reason_teams, named) == team


def test_seed_is_idempotent(database_url: str) -> None:
    from bot.store.seed import seed

    with session_scope() as session:
        seed(session)
        seed(session)
    with session_scope() as session:
        assert len(open_requests_for_phone(session, SAM)) == 1
        assert len(recent_orders_for_phone(session, ALEX, limit=10)) == 2
