"""The supervisor page's routing controls in a real browser, on a phone and a laptop:
a supervisor turns automatic assignment on and off for a person, and reassigns a chat its
agent has not answered."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any, Dict

import pytest

from bot.desk.agents import get_agent
from bot.store.db import session_scope
from bot.store.models import DeskEvent, utcnow
from tests.desk.client import DeskClient
from tests.desk.conftest import save_screenshot
from tests.desk.helpers import owner_of, queue_chat
from tests.desk.stack import Stack, fresh_phone, sign_in

pytestmark = pytest.mark.slow

VIEWPORTS = [
    pytest.param({"width": 390, "height": 844}, id="390x844"),
    pytest.param({"width": 1280, "height": 800}, id="1280x800"),
]


def wait_label(page: Any, username: str, word: str, timeout: float = 10) -> None:
    """Until the person's auto-assign switch reads `word` (the server answered)."""
    label = page.locator(f'#agents tr[data-agent="{username}"] label.auto-assign')
    deadline = time.monotonic() + timeout
    while label.inner_text().strip() != word:
        assert time.monotonic() < deadline, f"{username}'s switch never read {word!r}"
        time.sleep(0.05)


def auto_assign_of(stack: Stack, agent_id: int) -> bool:
    with session_scope(stack.url) as session:
        return get_agent(session, agent_id).auto_assign


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_supervisor_switches_auto_assignment_per_person(
    stack: Stack,
    browser: Any,
    viewport: Dict[str, int],  # noqa: ANN001
) -> None:
    page = sign_in(browser, stack, "sue", viewport=viewport)
    try:
        page.goto(stack.desk.url + "/supervisor")
        page.wait_for_selector("#live.on")
        sue_box = page.locator('#agents tr[data-agent="sue"] input[type=checkbox]')
        alice_box = page.locator('#agents tr[data-agent="alice"] input[type=checkbox]')
        sue_box.wait_for()
        # a supervisor starts without automatic assignment, an agent with it
        assert not sue_box.is_checked() and alice_box.is_checked()
        assert auto_assign_of(stack, stack.people.sue.id) is False
        sue_box.scroll_into_view_if_needed()
        sue_box.click()
        wait_label(page, "sue", "on")
        assert auto_assign_of(stack, stack.people.sue.id) is True
        widths = page.evaluate(
            "({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
        )
        assert widths["scroll"] <= widths["inner"], widths
        save_screenshot(page, f"supervisor-auto-assign-{viewport['width']}.png")
        # the setting survives a reload; off again
        page.reload()
        sue_box.wait_for()
        assert sue_box.is_checked()
        sue_box.click()
        wait_label(page, "sue", "off")
        assert auto_assign_of(stack, stack.people.sue.id) is False
        assert page.errors == []
    finally:
        page.context.close()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_supervisor_reassigns_a_chat_nobody_answered(
    stack: Stack,
    browser: Any,
    viewport: Dict[str, int],  # noqa: ANN001
) -> None:
    people = stack.people
    chat = queue_chat(stack.url, fresh_phone(), "is anyone there?")
    alice = DeskClient(stack.desk.url).login("alice")
    assert alice.post(f"/api/conversations/{chat.conversation_id}/claim").status == 200
    page = sign_in(browser, stack, "sue", viewport=viewport)
    try:
        with session_scope(stack.url) as session:  # claimed ten minutes ago, no reply since
            for event in session.query(DeskEvent).filter_by(conversation_id=chat.conversation_id):
                event.created_at = utcnow() - dt.timedelta(minutes=10)
        page.goto(stack.desk.url + "/supervisor")
        page.wait_for_selector("#live.on")
        row = page.locator(f'#unanswered tr[data-id="{chat.conversation_id}"]')
        row.wait_for()
        assert "Alice Moreno" in row.inner_text() and "10m" in row.inner_text()
        row.locator("select").select_option(str(people.bob.id))
        row.locator("button").scroll_into_view_if_needed()
        widths = page.evaluate(
            "({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
        )
        assert widths["scroll"] <= widths["inner"], widths
        save_screenshot(page, f"supervisor-unanswered-{viewport['width']}.png")
        row.locator("button").click()
        row.wait_for(state="detached")  # the page refreshed: bob holds it, freshly
        assert owner_of(stack.url, chat.conversation_id).agent_id == people.bob.id
        assert page.errors == []
    finally:
        page.context.close()
