"""Replies to a notification continue the conversation (the shared stack: Rasa, the SMS
worker, the stand-in): after "your order ... shipped ... Reply TRACK", TRACK or "where
is it?" is answered about that order, though the customer has others."""

from __future__ import annotations

import datetime as dt
import random
import time
from typing import Tuple

from sqlalchemy import select

from bot.store.db import session_scope
from bot.store.models import Customer, Order
from tests.desk.client import DeskClient
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


def test_the_notified_order_stays_the_topic_until_another_is_asked_about(stack: Stack) -> None:
    phone, number = customer_with_orders(stack)
    notified(stack, phone, number)
    assert number not in stack.sms.ask(phone, "ok thanks")
    answer = stack.sms.ask(phone, "where is it?")
    assert number in answer and "DHL" in answer, answer
    with session_scope(stack.url) as session:
        other = session.execute(
            select(Order.number)
            .join(Customer, Customer.id == Order.customer_id)
            .where(Customer.phone == phone, Order.number != number)
        ).scalar_one()
    assert other in stack.sms.ask(phone, f"where is order {other}?")
    answer = stack.sms.ask(phone, "where is it?")  # now the order asked about since
    assert other in answer and number not in answer, answer


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


def figures(stack: Stack) -> dict:
    client = DeskClient(stack.desk.url).login("sue")
    response = client.get("/api/supervisor/notification-figures")
    assert response.status == 200, response.text
    return response.json()["figures"]


def test_supervisor_figures_count_sent_delivered_and_replied(
    stack: Stack,
    browser,  # noqa: ANN001
) -> None:
    before = figures(stack)["total"]
    phone, number = customer_with_orders(stack)
    notified(stack, phone, number)
    quiet, _ = customer_with_orders(stack)  # notified, never replies
    notified(stack, quiet, _)
    stack.sms.ask(phone, "TRACK")
    deadline = time.monotonic() + 20
    while True:
        after = figures(stack)["total"]
        if after["delivered"] - before["delivered"] == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert after["sent"] - before["sent"] == 2
    assert after["delivered"] - before["delivered"] == 2
    assert after["replied"] - before["replied"] == 1
    assert (
        DeskClient(stack.desk.url).login("alice").get("/api/supervisor/notification-figures").status
        == 403
    )
    for width in (360, 1280):
        page = sign_in(browser, stack, "sue", viewport={"width": width, "height": 900})
        try:
            page.goto(stack.desk.url + "/supervisor")
            cell = '#notification-figures tr[data-template="total"] td[data-column="replied"]'
            page.wait_for_selector(cell)
            shown = int(page.inner_text(cell))
            assert shown >= after["replied"]
            sent = '#notification-figures tr[data-template="order_shipped"] td[data-column="sent"]'
            assert int(page.inner_text(sent)) >= 2
            overflow = "document.documentElement.scrollWidth > window.innerWidth"
            assert not page.evaluate(overflow), width
            assert page.errors == []
        finally:
            page.context.close()
