"""Everyday desk tools in a real browser on the shared stack: an agent finds a past
conversation by order number on a phone and reads it; a supervisor writes a canned reply
that an agent inserts, filled with the customer's first name, and the customer receives;
the supervisor page's per-agent table fits a phone and a laptop."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any, Dict
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.store.customers import get_or_create_customer
from bot.store.db import session_scope
from bot.store.models import CannedReply, Order
from tests.desk.conftest import save_screenshot
from tests.desk.stack import Stack, fresh_phone, mine_item, queue_item, sign_in

pytestmark = pytest.mark.slow

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 800}
HOSTILE = 'my parcel <img src=x onerror="window.pwned=1"> is late & "lost"'


def assert_no_overflow(page: Any, where: str) -> None:
    widths = page.evaluate(
        "({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
    )
    assert widths["scroll"] <= widths["inner"], f"{where}: {widths}"


def customer_with_order(stack: Stack, name: str) -> tuple:
    """A new customer (fresh phone) with one order of a fresh number: (phone, number)."""
    phone = fresh_phone()
    number = f"T{time.time_ns() % 10_000_000:07d}"
    with session_scope(stack.url) as session:
        customer = get_or_create_customer(session, phone, name)
        session.add(Order(number=number, customer_id=customer.id, status="processing"))
    return phone, number


def test_an_agent_finds_a_past_conversation_by_order_number_on_a_phone(
    stack: Stack, browser: Any
) -> None:
    phone, number = customer_with_order(stack, "Tess Morgan")
    sms = stack.sms
    assert sms.ask(phone, "hi")
    assert sms.ask(phone, HOSTILE)
    page = sign_in(browser, stack, "bob", viewport=PHONE)
    try:
        assert_no_overflow(page, "console")
        page.fill("#search-q", number.lower())
        page.click("#search-go")
        result = f'#search-results .item[data-phone="{phone}"]'
        page.wait_for_selector(result)
        assert page.locator("#search-results .item").count() == 1
        item = page.inner_text(result)
        assert "Tess Morgan" in item and "matched order" in item
        assert_no_overflow(page, "search results")
        page.click(result)
        page.wait_for_selector("#past-transcript .msg.from-customer .bubble")
        bubbles = page.locator("#past-transcript .bubble").all_inner_texts()
        assert bubbles[0] == "hi" and HOSTILE in bubbles
        assert page.locator("#past-transcript img").count() == 0
        assert page.evaluate("window.pwned") is None
        assert page.inner_text("#past-title") == "Tess Morgan"
        assert "read-only" in page.inner_text("#past")
        # read-only: nothing to reply with in the panel
        assert page.locator("#past textarea, #past button.primary").count() == 0
        card = page.locator(".past-card").bounding_box()
        assert card["x"] >= 0 and card["x"] + card["width"] <= PHONE["width"] + 0.5
        assert_no_overflow(page, "past transcript")
        save_screenshot(page, "search-phone.png")
        page.click("#past-close")
        page.wait_for_selector("#past", state="hidden")
        # a name finds it too; a pattern with wildcards finds nothing
        page.fill("#search-q", "tess morg")
        page.click("#search-go")
        page.wait_for_selector(result)
        page.fill("#search-q", "T%%")
        page.click("#search-go")
        page.wait_for_selector("#search-empty:has-text('No conversations match')")
        assert page.locator("#search-results .item").count() == 0
        assert page.errors == []
    finally:
        page.context.close()


def test_a_supervisor_edits_a_canned_reply_an_agent_sends_it(stack: Stack, browser: Any) -> None:
    phone, _number = customer_with_order(stack, "Nora Quinn")
    tag = str(time.time_ns() % 1_000_000)
    title = f"Order help {tag}"
    sue = sign_in(browser, stack, "sue", viewport=LAPTOP)
    try:
        sue.goto(stack.desk.url + "/supervisor")
        sue.wait_for_selector("#canned-list .canned-item")
        sue.fill("#canned-title", title)
        sue.select_option("#canned-team", "orders")
        sue.fill("#canned-text", "Hi {first_name}, one moment.")
        assert "1 SMS" in sue.inner_text("#canned-counter")
        sue.click("#canned-save")
        item = f'#canned-list .canned-item[data-title="{title}"]'
        sue.wait_for_selector(item)
        sue.click(f'{item} button[data-action="edit"]')
        assert sue.input_value("#canned-text") == "Hi {first_name}, one moment."
        wanted = "Hi {first_name}, I'm checking your order now (ref " + tag + ")."
        sue.fill("#canned-text", wanted)
        sue.click("#canned-save")
        sue.wait_for_selector(f'{item} .canned-text:text-is("{wanted}")')
        assert "Saved" in sue.inner_text("#canned-status")
        assert_no_overflow(sue, "supervisor page with the editor")
        save_screenshot(sue, "canned-editor.png")
        with session_scope(stack.url) as session:
            row = session.execute(
                select(CannedReply).where(CannedReply.title == title)
            ).scalar_one()
            assert (row.text, row.team, row.updated_by) == (wanted, "orders", stack.people.sue.id)
    finally:
        sue.context.close()

    sms = stack.sms
    page = sign_in(browser, stack, "alice", viewport=LAPTOP)  # works in the orders team
    try:
        assert "passing you to a person" in sms.ask(phone, "AGENT")
        page.wait_for_selector(queue_item(phone), timeout=15_000)
        page.click(queue_item(phone))
        page.click("#claim")
        page.wait_for_selector(mine_item(phone))
        page.wait_for_selector("#send:not([disabled])")
        page.select_option("#canned", label=f"{title} (orders)")
        expected = f"Hi Nora, I'm checking your order now (ref {tag})."
        page.wait_for_function(
            "expected => document.getElementById('text').value === expected", arg=expected
        )
        assert page.get_attribute("#counter", "data-length") == str(len(expected))
        assert page.get_attribute("#counter", "data-segments") == "1"
        before = len(sms.sent(phone))
        page.click("#send")
        texts = sms.wait_replies(phone, before + 1, timeout=20)
        assert texts[-1] == expected
        page.click("#resolve")
        page.wait_for_selector(mine_item(phone), state="detached")
        assert page.errors == []
    finally:
        page.context.close()


@pytest.mark.parametrize(
    "viewport", [pytest.param(PHONE, id="390x844"), pytest.param(LAPTOP, id="1280x800")]
)
def test_the_per_agent_table_fits_the_supervisor_page(
    stack: Stack, browser: Any, viewport: Dict[str, int]
) -> None:
    zone = "Asia/Tokyo"
    page = sign_in(browser, stack, "sue", viewport=viewport, timezone_id=zone)
    try:
        page.goto(stack.desk.url + "/supervisor")
        page.wait_for_selector('#agent-figures tr[data-agent="alice"]')
        today = dt.datetime.now(ZoneInfo(zone)).date().isoformat()
        assert page.input_value("#range-from") == today == page.input_value("#range-to")
        assert zone in page.inner_text("#range-tz")
        heads = page.locator("#agent-figures-table th").all_inner_texts()
        assert heads == ["Agent", "Chats handled", "First reply", "Handling time", "CSAT"]
        cells = page.locator('#agent-figures tr[data-agent="olga"] td').all_inner_texts()
        assert cells[1] == "0" and cells[4] == "—"
        assert_no_overflow(page, "supervisor page")
        fits = page.evaluate(
            "(() => { const t = document.getElementById('agent-figures-table');"
            " return t.scrollWidth <= t.parentElement.clientWidth; })()"
        )
        assert fits, "the per-agent table is wider than its panel"
        # another range: the table is asked again
        page.fill("#range-from", "2030-01-01")
        page.fill("#range-to", "2030-01-31")
        page.click("#range-show")
        page.wait_for_selector("#range-status:has-text('2030')")
        cells = page.locator('#agent-figures tr[data-agent="alice"] td').all_inner_texts()
        assert cells[1:] == ["0", "—", "—", "—"]
        save_screenshot(page, f"agent-figures-{viewport['width']}.png")
        assert page.errors == []
    finally:
        page.context.close()
