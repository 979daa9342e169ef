"""Room requests end to end in Chromium: a customer texts a room request to the bot through
the Plivo stand-in, staff confirm it with a note in the Requests view, the customer's phone
receives the confirmation, and the bot's REQUESTS answer says "confirmed". The view never
scrolls sideways at 390 px or 1280 px."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Dict

import pytest

from bot.store.customers import get_or_create_customer, set_timezone
from bot.store.db import session_scope
from tests.desk.conftest import save_screenshot
from tests.desk.helpers import conversation_id_for
from tests.desk.stack import Stack, fresh_phone, sign_in
from tests.desk.test_console_phone import LAPTOP, PHONE, assert_no_overflow, assert_on_screen
from tests.desk.test_requests_api import daytime_zone

pytestmark = pytest.mark.slow


def customer_with_a_request(stack: Stack, name: str, days_ahead: int) -> tuple:
    """A customer (in a timezone where it is daytime now) texts a room request to the bot;
    (phone, ref, check-in, check-out)."""
    sms = stack.sms
    phone = fresh_phone()
    with session_scope(stack.url) as session:
        get_or_create_customer(session, phone).name = name
        set_timezone(session, phone, daytime_zone())
    start = dt.date.today() + dt.timedelta(days=days_ahead)
    end = start + dt.timedelta(days=2)
    assert "check in" in sms.ask(phone, "I need 2 beds in my room")
    assert "check-out" in sms.ask(phone, f"{start:%b} {start.day}")
    assert "guests" in sms.ask(phone, f"{end:%b} {end.day}").lower()
    assert "Which room" in sms.ask(phone, "2")
    summary = sms.ask(phone, "queen")
    assert "Add this request" in summary and "2 beds" in summary
    stored = sms.ask(phone, "yes")
    assert "we'll text you to confirm" in stored
    found = re.search(r"request (R\d+) ", stored)
    assert found, stored
    return phone, found.group(1), start, end


def open_card(page: Any, ref: str) -> str:
    card = f'.request-card[data-ref="{ref}"]'
    page.wait_for_selector(card)
    page.click(f"{card} .details-toggle")
    page.wait_for_selector(f"{card} .request-history li")
    return card


def test_staff_confirm_a_texted_request_and_the_customer_hears(stack: Stack, browser) -> None:  # noqa: ANN001
    sms = stack.sms
    phone, ref, start, end = customer_with_a_request(stack, "Casey Morgan", 45)
    page = sign_in(browser, stack, "alice")
    try:
        page.click("#nav-requests")
        page.wait_for_url(stack.desk.url + "/requests")
        assert page.input_value("#filter-status") == "requested"
        card = open_card(page, ref)
        text = page.inner_text(card)
        assert "Casey Morgan" in text and "requested" in text and "2 beds" in text
        assert "customer · made the request" in page.inner_text(f"{card} .request-history")
        note = "Quiet queen room on the 3rd floor"
        page.fill(f"{card} .outcome-note", note)
        before = len(sms.sent(phone))
        page.click(f"{card} button.confirm")
        page.wait_for_selector("#flash:not([hidden])")
        assert f"{ref} confirmed" in page.inner_text("#flash")
        # the request left the "requested" list; under Confirmed it shows who and the text
        page.wait_for_selector(f'.request-card[data-ref="{ref}"]', state="detached")
        page.select_option("#filter-status", "confirmed")
        card = open_card(page, ref)
        history = page.inner_text(f"{card} .request-history")
        assert "Alice Moreno · requested → confirmed" in history and note in history
        assert "Text to customer:" in history
        # the confirmation reaches the customer's phone through the stand-in
        received = sms.wait_replies(phone, before + 1, timeout=30)[-1]
        span = f"{start:%b} {start.day}-{end.day}" if start.month == end.month else None
        assert f"your room request {ref} (2 guests, " in received
        assert received.endswith(f"is confirmed. Note: {note}")
        assert span is None or span in received
        # the bot's REQUESTS answer now says so
        listing = sms.ask(phone, "REQUESTS")
        assert re.search(rf"{ref} [^;]*: confirmed", listing), listing
        # and the customer panel beside the chat shows the status (a supervisor may look)
        sue = sign_in(browser, stack, "sue")
        try:
            sue.goto(f"{stack.desk.url}/#c={conversation_id_for(stack.url, phone)}")
            sue.wait_for_selector("#customer .pill.booking-confirmed")
            assert ref in sue.inner_text("#customer")
        finally:
            sue.context.close()
        assert page.errors == []
    finally:
        save_screenshot(page, "requests-confirmed.png")
        page.context.close()


@pytest.mark.parametrize(
    "viewport", [pytest.param(PHONE, id="390x844"), pytest.param(LAPTOP, id="1280x800")]
)
def test_the_requests_view_fits_the_screen(
    stack: Stack,
    browser,  # noqa: ANN001
    viewport: Dict[str, int],
) -> None:
    phone, ref, _start, _end = customer_with_a_request(stack, "Maximiliana Featherstonehaugh", 60)
    long_words = "supercalifragilisticexpialidocious" * 3
    with session_scope(stack.url) as session:  # a long unbroken note from the customer
        from bot.store.bookings import add_note_for_phone

        assert add_note_for_phone(session, phone, int(ref[1:]), long_words)
    page = sign_in(browser, stack, "bob", viewport=viewport)
    try:
        page.goto(stack.desk.url + "/requests")
        page.wait_for_selector("#live.on")
        card = open_card(page, ref)
        assert_no_overflow(page, "requests view with a request open")
        for selector in (
            f"{card} .outcome-note",
            f"{card} button.confirm",
            f"{card} button.decline",
        ):
            page.locator(selector).scroll_into_view_if_needed()
            assert_on_screen(page, selector)
        page.click(f"{card} .edit summary")
        page.wait_for_selector(f"{card} .edit-form")
        assert_no_overflow(page, "edit form open")
        # an edit from the view: recorded, the card shows the new guest count
        page.fill(f"{card} .edit-guests", "3")
        page.fill(f"{card} .edit-note", "guest called")
        page.click(f"{card} .save-edit")
        page.wait_for_selector(f'{card} .request-history li:has-text("guests: 2 → 3")')
        assert "3 guests" in page.inner_text(f"{card} .request-stay")
        assert_no_overflow(page, "after the edit")
        assert page.errors == []
    finally:
        save_screenshot(page, f"requests-{viewport['width']}.png")
        page.context.close()
