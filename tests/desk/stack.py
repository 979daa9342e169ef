"""One running desk + SMS stack shared by the browser tests of tests/desk, and the helpers
they use to drive it: the customer side through the Plivo stand-in, agents in Chromium."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional

from sqlalchemy import select

from bot.store.db import session_scope
from bot.store.migrate import upgrade
from bot.store.models import Message
from bot.store.seed import seed
from tests.desk.conftest import PASSWORD, People, make_people
from tests.desk.server import DeskServer
from tests.notify_api import TOKEN
from tests.sms_harness import SmsSetup

DESKTOP = {"width": 1440, "height": 900}
DESK_ENV = {"QUIET_HOURS": "off"}
# The assistant also asks for a rating after a room request it took alone, an hour later
# so that no other test's customer gets it (tests/desk/test_surveys_browser.py brings it
# forward); no quiet hours, so that the tests pass at any time of day.
SMS_ENV = {
    "CSAT_AFTER_BOT_TASKS": "1",
    "CSAT_AFTER_BOT_TASK_SECONDS": "3600",
    "QUIET_HOURS": "off",
}


@dataclass
class Stack:
    sms: SmsSetup
    desk: DeskServer
    people: People
    url: str


def start_stack(work: Path, model: Path) -> Stack:
    """A migrated, seeded SQLite database under `work`, the SMS setup and a console."""
    url = f"sqlite:///{work / 'bot.db'}"
    upgrade(url)
    with session_scope(url) as session:
        seed(session)
    people = make_people(url)
    sms = SmsSetup(url, model, work, extra_env=SMS_ENV).start()
    try:
        # the questions the desk starts (CSAT after a resolve, NPS) go out at once, whatever
        # the time of day (quiet hours are tested in tests/test_e2e_outbound.py)
        # no maintenance loop: chats wait for the tests to claim them (so the bot quotes
        # the line rather than "They'll text you here shortly"; test_autoassign_browser.py
        # adds a console with the loop on this database and checks the real promise)
        desk = DeskServer(url, work, extra_env={**DESK_ENV, "NOTIFY_API_TOKENS": TOKEN}).start()
    except BaseException:
        sms.stop()
        raise
    return Stack(sms, desk, people, url)


def stop_stack(stack: Stack) -> None:
    stack.desk.stop()
    stack.sms.stop()


def fresh_phone() -> str:
    return f"+1555{time.time_ns() % 10_000_000:07d}"


def sign_in(
    browser: Any,
    stack: Stack,
    username: str,
    block_stream: bool = False,
    viewport: Optional[Dict[str, int]] = None,
    **context_options: Any,
) -> Any:
    """A new browser context signed in as `username`; page.errors collects script errors."""
    context = browser.new_context(viewport=viewport or DESKTOP, **context_options)
    page = context.new_page()
    errors: list = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    if block_stream:  # a console whose live view went stale
        page.route("**/api/stream", lambda route: route.abort())
    page.goto(stack.desk.url + "/")
    assert page.url == stack.desk.url + "/login"
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(stack.desk.url + "/")
    page.wait_for_selector("#me-name:not(:empty)")
    if not block_stream:
        page.wait_for_selector("#live.on")
    return page


def queue_item(phone: str) -> str:
    return f'#queue .item[data-phone="{phone}"]'


def mine_item(phone: str) -> str:
    return f'#mine .item[data-phone="{phone}"]'


def wait_held(stack: Stack, phone: str, text: str, timeout: float = 20) -> None:
    """Until the bot's side finished with this inbound text (and stayed silent)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with session_scope(stack.url) as session:
            status = session.execute(
                select(Message.status)
                .where(Message.text == text, Message.direction == "in")
                .order_by(Message.id.desc())
            ).scalar()
        if status == "held":
            return
        time.sleep(0.1)
    raise AssertionError(f"{text!r} from {phone} was not held")
