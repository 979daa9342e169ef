"""A transfer end to end in real browsers through the SMS path: the customer texts AGENT
through the Plivo stand-in, Alice (laptop) claims, replies and passes the chat to the
bookings team; her console says so (not "no longer available"), the customer's phone gets
one passing-you text and no BOT/WAIT offer; Bob (phone) sees who did what, and who holds
the chat, before and after he takes it."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.desk.conftest import save_screenshot
from tests.desk.customer_side import OFFER, PASSING, offer_round, texts_to, wait_for
from tests.desk.helpers import conversation_id_for, owner_of
from tests.desk.stack import Stack, fresh_phone, mine_item, queue_item, sign_in

pytestmark = pytest.mark.slow

LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def fact(page: Any, label: str) -> str:
    """The value next to `label` in the customer panel's handoff facts."""
    return page.locator(f'#customer dt:text-is("{label}") + dd').inner_text()


def no_overflow(page: Any) -> None:
    widths = page.evaluate(
        "({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
    )
    assert widths["scroll"] <= widths["inner"], widths


def test_a_transfer_reads_right_for_customer_and_agents(stack: Stack, browser: Any) -> None:
    phone = fresh_phone()
    stack.sms.ask(phone, "AGENT")
    cid = conversation_id_for(stack.url, phone)
    alice = sign_in(browser, stack, "alice", viewport=LAPTOP)
    bob = None
    try:
        alice.wait_for_selector(queue_item(phone), timeout=15_000)
        alice.click(queue_item(phone))
        alice.click("#claim")
        alice.wait_for_selector(mine_item(phone))
        alice.fill("#text", "Hi, Alice here. Let me find our bookings team for you.")
        alice.click("#send")
        wait_for(stack, phone, "Alice here")
        # pass it to the bookings team's queue
        alice.click("#transfer-open")
        alice.wait_for_selector("#transfer-form:not([hidden])")
        alice.select_option("#transfer-target", "team:bookings")
        alice.fill("#transfer-note", "wants to move a stay")
        alice.click("#transfer-submit")
        alice.wait_for_selector('#flash.ok:has-text("Transferred to bookings")')
        assert alice.inner_text("#flash") == "Transferred to bookings"
        # Alice is on bookings too: the chat stays open for her, now waiting in that queue
        alice.wait_for_selector('#customer dt:text-is("Transferred to")')
        assert fact(alice, "Transferred to") == "bookings queue"
        time.sleep(1.0)  # a late refresh must not replace the outcome with an error
        assert alice.inner_text("#flash") == "Transferred to bookings"
        no_overflow(alice)
        save_screenshot(alice, "transfer-done-1280.png")
        assert owner_of(stack.url, cid).team == "bookings"
        # the customer: one passing-you text, and no BOT/WAIT offer right after
        wait_for(stack, phone, PASSING)
        offer_round(stack)  # DESK_WAIT_OFFER_AFTER_AGENT_SECONDS as configured (10 min)
        time.sleep(1.5)
        texts = texts_to(stack, phone)
        assert [t for t in texts if PASSING in t and "bookings" in t] == [
            "I'm passing you to our bookings team; someone will text you shortly."
        ]
        assert not any(OFFER in t for t in texts), texts
        # Bob, on bookings, on his phone: the story and the current holder
        bob = sign_in(browser, stack, "bob", viewport=PHONE)
        bob.wait_for_selector(queue_item(phone), timeout=15_000)
        bob.click(queue_item(phone))
        bob.wait_for_selector('#transcript .entry.activity:has-text("transferred")')
        activities = bob.locator("#transcript .entry.activity span").all_inner_texts()
        assert activities[-2:] == [
            "Claimed by Alice Moreno",
            "Alice Moreno transferred to bookings",
        ]
        told = bob.locator('#transcript .msg[data-author="system"] .bubble').all_inner_texts()
        assert "I'm passing you to our bookings team; someone will text you shortly." in told
        assert bob.locator("#transcript .msg.from-agent").count() == 1  # Alice's reply only
        bob.click("#customer-open")
        assert fact(bob, "Transferred to") == "bookings queue"
        assert bob.locator('#customer dt:text-is("Claimed by")').count() == 0
        no_overflow(bob)
        save_screenshot(bob, "transfer-bookings-390.png")
        bob.click("#customer-close")
        bob.click("#claim")
        bob.wait_for_selector('#transcript .entry.activity:has-text("Claimed by Bob Chen")')
        bob.click("#customer-open")
        bob.wait_for_selector('#customer dt:text-is("Claimed by")')
        assert fact(bob, "Claimed by") == "Bob Chen"
        # Bob passes it on to Alice by name: a chat he may no longer see closes with the
        # outcome, not with "no longer available"
        bob.click("#customer-close")
        bob.click("#transfer-open")
        bob.wait_for_selector("#transfer-form:not([hidden])")
        bob.select_option("#transfer-target", f"agent:{stack.people.alice.id}")
        bob.click("#transfer-submit")
        bob.wait_for_selector('#flash.ok:has-text("Transferred to Alice Moreno")')
        bob.wait_for_selector("#conv", state="hidden")  # closed: back to his lists
        time.sleep(1.0)
        assert bob.inner_text("#flash") == "Transferred to Alice Moreno"
        no_overflow(bob)
        save_screenshot(bob, "transfer-done-390.png")
        texts = wait_for(stack, phone, "I'm passing you to Alice")
        assert texts.count("I'm passing you to Alice; they'll text you shortly.") == 1
        assert not any(OFFER in t for t in texts), texts
        # Alice sees who did what, and that it is hers now
        alice.wait_for_selector(mine_item(phone))
        alice.click(mine_item(phone))
        alice.wait_for_selector('#transcript .entry.activity:has-text("Bob Chen transferred")')
        activities = alice.locator("#transcript .entry.activity span").all_inner_texts()
        assert activities[-4:] == [
            "Claimed by Alice Moreno",
            "Alice Moreno transferred to bookings",
            "Claimed by Bob Chen",
            "Bob Chen transferred to Alice Moreno",
        ]
        alice.wait_for_selector(
            '#customer dt:text-is("Transferred to") + dd:text-is("Alice Moreno")'
        )
        save_screenshot(alice, "transfer-activity-1280.png")
        assert alice.errors == [] and bob.errors == []
    finally:
        alice.context.close()
        if bob is not None:
            bob.context.close()
