"""Replies to a notification continue the conversation (the shared stack: Rasa, the SMS
worker, the stand-in): after "your order ... shipped ... Reply TRACK", TRACK or "where
is it?" is answered about that order, though the customer has others."""

from __future__ import annotations

import datetime as dt
import random
import time
from typing import Tuple

from bot.store.db import session_scope
from bot.store.models import Customer, Order
from tests.desk.helpers import conversation_id_for, owner_of
from tests.desk.stack import Stack, fresh_phone, queue_item, sign_in, wait_held
from tests.notify_api import api

TRACKING = "JD014600001234567"


def customer_with_orders(stack: Stack) -> Tuple[str, str]:
    """A new customer with a shipped order (DHL) and a newer one still being prepared."""
    phone = fresh_phone()
    number = f"T{random.randint(100000, 999999)}"
    with session_scope(stack.url) as session:
        customer = Customer(phone=phone, name="Robin Ash")
        session.add(customer)
        session.flush()
        now = dt.datetime.utcnow()
        session.add(
            Order(
                number=number,
                customer_id=customer.id,
                status="shipped",
                carrier="DHL",
                tracking_number=TRACKING,
                placed_at=now - dt.timedelta(days=3),
            )
        )
        session.add(
            Order(
                number=f"P{random.randint(100000, 999999)}",
                customer_id=customer.id,
                status="processing",
                placed_at=now,
            )
        )
    return phone, number


def notified(stack: Stack, phone: str, number: str) -> str:
    body = {
        "to": phone,
        "template": "order_shipped",
        "order": number,
        "idempotency_key": f"track-{phone}",
    }
    code, answer = api(stack.desk.url, "POST", "/api/v1/notifications", body)
    assert code == 202, answer
    (text,) = stack.sms.wait_replies(phone, 1)
    return text


def test_track_after_a_notification_answers_about_that_order(stack: Stack) -> None:
    phone, number = customer_with_orders(stack)
    text = notified(stack, phone, number)
    assert "Hi Robin" in text or "hi Robin" in text
    assert number in text and "Reply TRACK" in text
    answer = stack.sms.ask(phone, "TRACK")
    assert number in answer and "DHL" in answer and TRACKING in answer, answer


def test_where_is_it_after_a_notification_answers_about_that_order(stack: Stack) -> None:
    phone, number = customer_with_orders(stack)
    notified(stack, phone, number)
    answer = stack.sms.ask(phone, "where is it?")
    assert number in answer and "DHL" in answer, answer


def test_without_a_notification_track_asks_which_order(stack: Stack) -> None:
    phone, number = customer_with_orders(stack)
    answer = stack.sms.ask(phone, "TRACK")
    assert TRACKING not in answer and "Your recent orders" in answer, answer


def test_agents_see_the_notification_marked_and_get_the_replies_while_they_own_the_chat(
    stack: Stack,
    browser,  # noqa: ANN001
) -> None:
    phone, number = customer_with_orders(stack)
    text = notified(stack, phone, number)
    assert "passing you to a person" in stack.sms.ask(phone, "AGENT")
    page = sign_in(browser, stack, "bob", viewport={"width": 390, "height": 844})
    try:
        page.wait_for_selector(queue_item(phone), timeout=15_000)
        page.click(queue_item(phone))
        page.wait_for_selector("#transcript .msg.notification")
        marked = page.locator("#transcript .msg.notification")
        assert marked.count() == 1
        assert marked.locator(".bubble").inner_text() == text
        assert marked.locator(".who").inner_text().lower() == "notification"
        overflow = "document.documentElement.scrollWidth > window.innerWidth"
        assert not page.evaluate(overflow)
        page.click("#claim")
        conversation = conversation_id_for(stack.url, phone)
        deadline = time.monotonic() + 15
        while owner_of(stack.url, conversation).agent_id != stack.people.bob.id:
            assert time.monotonic() < deadline, "bob did not get the chat"
            time.sleep(0.1)
        before = len(stack.sms.sent(phone))
        stack.sms.text(phone, "where is it?")  # to the agent, not the bot
        page.wait_for_selector('#transcript .msg.from-customer .bubble:text-is("where is it?")')
        wait_held(stack, phone, "where is it?")
        assert len(stack.sms.sent(phone)) == before
        assert "unsubscribed" in stack.sms.ask(phone, "STOP")  # STOP works as always
        assert page.errors == []
    finally:
        page.context.close()
