"""Automatic assignment in a real browser through the SMS path, on a console that runs the
maintenance loop (as `make run` and deploy/Procfile's desk do): an agent signs in (the
open console's live stream is the heartbeat), a customer texts the Plivo stand-in and asks
for a person, the chat lands in the agent's chats as "Assigned to ... (automatic)"; the
agent closes the tab and the chat goes back to the queue after the heartbeat timeout and
the grace period, not before."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from typing import Any, Iterator, Optional, Tuple

import pytest

from bot.desk.agents import AgentView, create_agent, get_agent
from bot.desk.notices import ASSIGNING_NOW
from bot.store.db import session_scope
from bot.store.models import utcnow
from tests.desk.client import DeskClient
from tests.desk.conftest import PASSWORD, save_screenshot
from tests.desk.helpers import conversation_id_for, owner_of
from tests.desk.server import DeskServer
from tests.desk.stack import DESK_ENV, Stack, fresh_phone, mine_item, sign_in

pytestmark = pytest.mark.slow

TIMEOUT = 3.0  # AGENT_HEARTBEAT_TIMEOUT_SECONDS: the console beats every second
GRACE = 6.0  # DESK_PRESENCE_GRACE_SECONDS
SLACK = 6.0  # how late the requeue may come on a slow box (the loop runs every second)
LAPTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def assigning(
    stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Tuple[Stack, AgentView]]:
    """The shared stack seen through a second console on the same database that runs the
    maintenance loop with short presence timeouts (the shared console runs without it, so
    that its tests' chats wait to be claimed), and an agent of this module's own, with room
    for any chat an earlier test left waiting."""
    with session_scope(stack.url) as session:
        ada = create_agent(session, "ada", "Ada Quinn", PASSWORD, teams=("general",), capacity=1000)
    env = {
        **DESK_ENV,
        "AGENT_HEARTBEAT_TIMEOUT_SECONDS": str(TIMEOUT),
        "DESK_PRESENCE_GRACE_SECONDS": str(GRACE),
    }
    logs = tmp_path_factory.mktemp("desk-autoassign")
    desk = DeskServer(stack.url, logs, maintenance=True, extra_env=env).start()
    try:
        yield dataclasses.replace(stack, desk=desk), ada
    finally:
        desk.stop()


def fact(page: Any, label: str) -> str:
    """The value next to `label` in the customer panel's handoff facts."""
    return page.locator(f'#customer dt:text-is("{label}") + dd').inner_text()


def last_seen(stack: Stack, agent_id: int) -> Optional[dt.datetime]:
    with session_scope(stack.url) as session:
        return get_agent(session, agent_id).last_seen_at


def status_of(stack: Stack, agent_id: int) -> str:
    with session_scope(stack.url) as session:
        return get_agent(session, agent_id).status


def test_a_chat_is_assigned_to_the_open_console_and_requeued_after_the_grace(
    assigning: Tuple[Stack, AgentView], browser: Any
) -> None:
    stack, ada = assigning
    phone = fresh_phone()
    page = sign_in(browser, stack, "ada", viewport=LAPTOP)
    closed = False
    try:
        page.wait_for_selector("#status.online")
        # the open console keeps her present, with no request from the test: several
        # heartbeat timeouts later she still counts as heard from
        time.sleep(3 * TIMEOUT)
        seen = last_seen(stack, ada.id)
        assert seen is not None
        assert (utcnow() - seen).total_seconds() < TIMEOUT, seen
        assert status_of(stack, ada.id) == "online"
        # this console's loop beats: /health says so (the promise below depends on it)
        assert DeskClient(stack.desk.url).get("/health").json()["maintenance_alive"] is True
        # the customer asks for a person: told someone will text shortly, and it is so
        assert stack.sms.ask(phone, "hi")
        assert stack.sms.ask(phone, "can i speak to a person") == ASSIGNING_NOW
        cid = conversation_id_for(stack.url, phone)
        page.wait_for_selector(mine_item(phone), timeout=15_000)
        assert (owner_of(stack.url, cid).owner, owner_of(stack.url, cid).agent_id) == (
            "agent",
            ada.id,
        )
        page.click(mine_item(phone))
        page.wait_for_selector(
            '#transcript .entry.activity:has-text("Assigned to Ada Quinn (automatic)")'
        )
        activities = page.locator("#transcript .entry.activity span").all_inner_texts()
        assert activities[-1] == "Assigned to Ada Quinn (automatic)", activities
        assert not any("Claimed by" in a for a in activities), activities
        page.wait_for_selector('#customer dt:text-is("Assigned to")')
        assert fact(page, "Assigned to") == "Ada Quinn (automatic)"
        assert page.locator('#customer dt:text-is("Claimed by")').count() == 0
        assert page.is_visible("#resolve")  # hers to answer, no claim needed
        save_screenshot(page, "console-auto-assigned-1280.png")
        assert page.errors == []
        # she closes the tab: the heartbeats stop
        page.context.close()
        closed = True
        gone = time.monotonic()
        time.sleep(1.5)  # a beat in flight may still land
        quiet = last_seen(stack, ada.id)
        time.sleep(2.0)
        assert owner_of(stack.url, cid).agent_id == ada.id, "requeued within the grace"
        assert status_of(stack, ada.id) != "offline"  # (going offline also sets last_seen)
        assert last_seen(stack, ada.id) == quiet, "a closed tab still heartbeats"
        assert quiet is not None
        # requeued at (last beat + timeout + grace), give or take a maintenance round
        due = time.monotonic() + TIMEOUT + GRACE - (utcnow() - quiet).total_seconds()
        assert due - gone >= GRACE, "the open console had fallen silent before the close"
        while time.monotonic() < due - 1.0:  # not before: still hers, and she is not offline
            assert owner_of(stack.url, cid).agent_id == ada.id, "requeued within the grace"
            time.sleep(0.2)
        assert status_of(stack, ada.id) != "offline"
        while owner_of(stack.url, cid).owner != "queue":
            assert time.monotonic() < due + SLACK, "not requeued after the grace period"
            time.sleep(0.2)
        assert status_of(stack, ada.id) == "offline"
        time.sleep(2.0)  # and not handed back to her: nobody is there
        assert owner_of(stack.url, cid).owner == "queue"
    finally:
        if not closed:
            page.context.close()
