"""The console in a real browser (Debian's Chromium via Playwright) with the whole SMS
setup: signed webhooks -> Rasa -> handoff -> live queue -> claim -> agent reply -> SMS."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from bot.desk.surveys import CSAT_QUESTION
from bot.sms.segments import sms_info
from bot.store.customers import get_or_create_customer
from bot.store.db import session_scope
from bot.store.models import OutboxMessage
from bot.store.seed import ALEX
from tests.desk.conftest import save_screenshot
from tests.desk.helpers import conversation_id_for, owner_of, queue_chat
from tests.desk.stack import (
    Stack,
    fresh_phone,
    mine_item,
    queue_item,
    sign_in,
    wait_held,
)

pytestmark = pytest.mark.slow

XSS_NAME = '<img src=x onerror="window.pwned=1">'
XSS_TEXT = '<img src=x onerror="window.pwned=2"><script>window.pwned=3</script> & <b>bold</b>'


def test_handoff_claim_reply_resolve_live(stack: Stack, browser) -> None:  # noqa: ANN001
    sms = stack.sms
    page = sign_in(browser, stack, "alice")
    try:
        page.evaluate("window.__sameDocument = true")
        page.wait_for_selector("#status.online")  # the console's heartbeat
        # the customer talks to the bot, then asks for a person
        assert "order" in sms.ask(ALEX, "hi").lower()
        handoff_reply = sms.ask(ALEX, "AGENT")
        assert "passing you to a person" in handoff_reply
        # the chat shows up in the open console without a reload
        page.wait_for_selector(queue_item(ALEX), timeout=15_000)
        assert "Alex Rivera" in page.inner_text(queue_item(ALEX))
        page.click(queue_item(ALEX))
        page.wait_for_selector("#transcript .msg.from-bot")
        page.click("#claim")
        page.wait_for_selector(mine_item(ALEX))
        page.wait_for_selector("#resolve:not([hidden])")
        assert page.locator(queue_item(ALEX)).count() == 0
        transcript = page.locator("#transcript .bubble").all_inner_texts()
        assert transcript[:2] == ["hi", transcript[1]] and "AGENT" in transcript
        assert handoff_reply in transcript  # the bot's turns are in the transcript
        assert "Claimed by Alice Moreno" in page.inner_text("#transcript")
        assert "Asked for a person" in page.inner_text("#customer")
        assert "A1001" in page.inner_text("#customer") and "shipped" in page.inner_text("#customer")
        # the customer's next texts appear live; the bot stays silent
        before = len(sms.sent(ALEX))
        for text in ("my robe is the wrong size", "I need a large"):
            sms.text(ALEX, text)
        page.wait_for_selector('#transcript .msg.from-customer .bubble:text-is("I need a large")')
        wait_held(stack, ALEX, "I need a large")
        time.sleep(1.0)
        assert len(sms.sent(ALEX)) == before
        # a canned reply, filled in with first names
        page.select_option("#canned", label="Greeting")
        filled = "() => document.getElementById('text').value !== ''"
        page.wait_for_function(filled)  # the server fills it
        greeting = page.input_value("#text")
        assert greeting.startswith("Hi Alex, this is Alice from Harborview.")
        assert page.get_attribute("#counter", "data-length") == str(len(greeting))
        # the live segment counter
        page.fill("#text", "Hi")
        assert page.inner_text("#counter") == "1 SMS · GSM-7 · 2/160"
        page.fill("#text", "a" * 161)
        assert page.get_attribute("#counter", "data-segments") == "2"
        page.fill("#text", "")
        page.type("#text", "Ok 😀")
        assert page.inner_text("#counter") == "1 SMS · UCS-2 · 5/70"
        reply = "Hi Alex, this is Alice. I'll swap your robe for a large today, no charge."
        page.fill("#text", reply)
        assert page.get_attribute("#counter", "data-encoding") == "GSM-7"
        page.click("#send")
        texts = sms.wait_replies(ALEX, before + 1, timeout=20)
        assert texts[-1] == reply
        page.wait_for_selector(
            '#transcript .msg.from-agent[data-status="delivered"]', timeout=15_000
        )
        assert "Delivered" in page.inner_text("#transcript .msg.from-agent .meta")
        # an internal note, visually apart, never sent
        page.click("#mode-note")
        page.fill("#text", "Sent a replacement large robe, order A1001.")
        page.click("#send")
        page.wait_for_selector("#transcript .entry.note")
        assert len(sms.sent(ALEX)) == before + 1
        page.click("#mode-reply")
        page.fill("#text", "Anything else I can help with?")
        page.wait_for_selector("#flash", state="hidden", timeout=10_000)
        save_screenshot(page, "console.png")
        page.fill("#text", "")
        # resolve: back to the bot, which answers the next text
        page.click("#resolve")
        page.wait_for_selector(mine_item(ALEX), state="detached")
        page.wait_for_selector("#conv-sub .owner-bot")
        # the desk asks for a rating (bot/desk/surveys.py); "hi" is no rating: a normal turn
        assert sms.wait_replies(ALEX, before + 2, timeout=20)[-1] == CSAT_QUESTION
        reply_to_hi = sms.ask(ALEX, "hi", timeout=30)
        assert reply_to_hi and reply_to_hi != reply
        with session_scope(stack.url) as session:
            last = (
                session.execute(
                    select(OutboxMessage)
                    .where(OutboxMessage.phone == ALEX)
                    .order_by(OutboxMessage.id.desc())
                )
                .scalars()
                .first()
            )
            assert last.kind != "agent" and last.text == reply_to_hi
        assert page.evaluate("window.__sameDocument") is True  # never reloaded
        assert page.errors == []
    finally:
        page.context.close()


def test_second_agent_cannot_claim_the_same_chat(stack: Stack, browser) -> None:  # noqa: ANN001
    phone = fresh_phone()
    stack.sms.ask(phone, "AGENT")
    cid = conversation_id_for(stack.url, phone)
    alice = sign_in(browser, stack, "alice")
    bob = sign_in(browser, stack, "bob", block_stream=True)  # bob's view is not refreshed
    try:
        for page in (alice, bob):
            page.wait_for_selector(queue_item(phone))
            page.click(queue_item(phone))
            page.wait_for_selector("#claim:not([hidden])")
        alice.click("#claim")
        alice.wait_for_selector(mine_item(phone))
        bob.click("#claim")
        bob.wait_for_selector('#flash.error:has-text("Already taken")')
        assert "Alice Moreno claimed this chat first" in bob.inner_text("#flash")
        bob.wait_for_selector("#placeholder:not([hidden])")  # not his to see any more
        assert owner_of(stack.url, cid).agent_id == stack.people.alice.id
        assert bob.locator(mine_item(phone)).count() == 0
    finally:
        alice.context.close()
        bob.context.close()


def test_unauthenticated_page_load_shows_only_the_login(stack: Stack, browser) -> None:  # noqa: ANN001
    queue_chat(stack.url, fresh_phone(), "private text nobody should see")
    context = browser.new_context()
    page = context.new_page()
    try:
        for path in ("/", "/supervisor", "/#c=1"):
            page.goto(stack.desk.url + path)
            assert page.url.split("#")[0] == stack.desk.url + "/login"
            assert page.locator("#login-form").count() == 1
            assert page.locator("#queue, #transcript, #customer").count() == 0
            assert "private text" not in page.content()
        status = page.evaluate("fetch('/api/queue').then(r => r.status)")
        stream = page.evaluate("fetch('/api/stream').then(r => r.status)")
        assert (status, stream) == (401, 401)
        # a wrong password keeps you on the login page, with a message
        page.fill("#username", "alice")
        page.fill("#password", "wrong password")
        page.click("#login-submit")
        assert "Wrong username or password." in page.inner_text("#login-error")
        assert [c["name"] for c in context.cookies()] == ["__Host-desk_login"]
    finally:
        context.close()


def test_customer_xss_renders_inert(stack: Stack, browser) -> None:  # noqa: ANN001
    phone = fresh_phone()
    stack.sms.ask(phone, "AGENT")
    with session_scope(stack.url) as session:
        get_or_create_customer(session, phone).name = XSS_NAME
    stack.sms.text(phone, XSS_TEXT)
    wait_held(stack, phone, XSS_TEXT)
    page = sign_in(browser, stack, "alice")
    try:
        page.wait_for_selector(queue_item(phone))
        assert XSS_TEXT in page.inner_text(queue_item(phone))
        page.click(queue_item(phone))
        page.click("#claim")
        page.wait_for_selector(mine_item(phone))
        page.click("#mode-note")
        page.fill("#text", "<script>window.pwned=4</script>")
        page.click("#send")
        page.wait_for_selector("#transcript .entry.note")
        page.click("#mode-reply")
        bubbles = page.locator("#transcript .msg.from-customer .bubble").all_inner_texts()
        assert XSS_TEXT in bubbles
        assert page.inner_text("#customer h2") == XSS_NAME
        assert page.inner_text("#conv-title") == XSS_NAME
        assert page.inner_text("#transcript .note-body") == "<script>window.pwned=4</script>"
        assert page.locator("img").count() == 0
        assert page.locator("#transcript script, #transcript b, #queue b, #mine img").count() == 0
        assert page.evaluate("window.pwned") is None
    finally:
        page.context.close()


def test_opted_out_customer_reply_is_not_sent(stack: Stack, browser) -> None:  # noqa: ANN001
    phone = fresh_phone()
    stack.sms.ask(phone, "AGENT")
    page = sign_in(browser, stack, "alice")
    try:
        page.wait_for_selector(queue_item(phone))
        page.click(queue_item(phone))
        page.click("#claim")
        page.wait_for_selector(mine_item(phone))
        assert page.locator("#optout-banner").is_hidden()
        stack.sms.ask(phone, "STOP")  # the opt-out confirmation is the last text they get
        page.wait_for_selector("#optout-banner:not([hidden])", timeout=10_000)
        assert "Opted out" in page.inner_text("#customer .badge")
        sent_before = len(stack.sms.sent(phone))
        page.fill("#text", "Hello? Are you still there?")
        page.click("#send")
        page.wait_for_selector("#send-status.error")
        assert "Not sent" in page.inner_text("#send-status")
        page.wait_for_selector('#transcript .msg.from-agent[data-status="suppressed"]')
        time.sleep(1.5)
        assert len(stack.sms.sent(phone)) == sent_before
    finally:
        page.context.close()


def test_going_offline_returns_chats_to_the_queue(stack: Stack, browser) -> None:  # noqa: ANN001
    phone = fresh_phone()
    stack.sms.ask(phone, "AGENT")
    cid = conversation_id_for(stack.url, phone)
    page = sign_in(browser, stack, "bob")
    try:
        page.wait_for_selector(queue_item(phone))
        page.click(queue_item(phone))
        page.click("#claim")
        page.wait_for_selector(mine_item(phone))
        assert owner_of(stack.url, cid).owner == "agent"
        page.select_option("#status", "offline")
        page.wait_for_selector(queue_item(phone))  # back in the queue, live
        assert page.locator(mine_item(phone)).count() == 0
        current = owner_of(stack.url, cid)
        assert (current.owner, current.agent_id) == ("queue", None)
        assert "went back to the queue" in page.inner_text("#flash")
        page.select_option("#status", "online")
        page.wait_for_selector("#status.online")
    finally:
        page.context.close()


def test_transfer_to_a_team_with_a_note(stack: Stack, browser) -> None:  # noqa: ANN001
    phone = fresh_phone()
    stack.sms.ask(phone, "AGENT")
    cid = conversation_id_for(stack.url, phone)
    page = sign_in(browser, stack, "alice")
    try:
        page.wait_for_selector(queue_item(phone))
        page.click(queue_item(phone))
        page.click("#claim")
        page.wait_for_selector(mine_item(phone))
        page.click("#transfer-open")
        page.wait_for_selector("#transfer-form:not([hidden])")
        assert page.locator('#transfer-target option[value^="agent:"][disabled]').count() >= 1
        page.select_option("#transfer-target", "team:orders")
        page.fill("#transfer-note", "Asked about a refund for order B2001")
        page.click("#transfer-submit")
        page.wait_for_selector(f'{queue_item(phone)} .tag.team:text-is("orders")')
        assert page.locator(mine_item(phone)).count() == 0
        current = owner_of(stack.url, cid)
        assert (current.owner, current.team) == ("queue", "orders")
        page.wait_for_selector("#transcript .entry.note")
        assert "Transfer: Asked about a refund" in page.inner_text("#transcript .entry.note")
        assert "Alice Moreno transferred to orders" in page.inner_text("#transcript")
        assert page.inner_text("#flash") == "Transferred to orders"  # not an error
    finally:
        page.context.close()


def test_supervisor_page_updates_live(stack: Stack, browser) -> None:  # noqa: ANN001
    agent = sign_in(browser, stack, "alice")
    page = sign_in(browser, stack, "sue")
    try:
        page.click("#nav-supervisor")
        page.wait_for_url(stack.desk.url + "/supervisor")
        page.wait_for_selector("#kpi-containment")
        page.wait_for_selector("#live.on")
        page.wait_for_selector('#agents tr[data-agent="alice"] .status-dot.online')
        page.evaluate("window.__sameDocument = true")
        chat = queue_chat(
            stack.url, fresh_phone(), "need help with my booking", "booking_issue", "bookings"
        )
        page.wait_for_selector(f'#waiting tr[data-id="{chat.conversation_id}"]', timeout=10_000)
        assert "need help with my booking" in page.inner_text("#waiting")
        row = page.inner_text('#queues tr[data-team="bookings"]')
        assert row.split("\t")[1].strip() != "0"
        assert page.locator('#reasons tr[data-reason="booking_issue"]').count() == 1
        assert page.evaluate("window.__sameDocument") is True
        save_screenshot(page, "supervisor.png")
    finally:
        agent.context.close()
        page.context.close()


SEGMENT_SAMPLES = [
    "",
    "a",
    "a" * 160,
    "a" * 161,
    "a" * 306,
    "a" * 307,
    "€" * 80,
    "€" * 81,
    "a" * 152 + "€",
    "a" * 152 + "€" + "a" * 10,
    "{}[]~|^\\ and \f",
    "naïve café",
    "Привет, как дела?",
    "é" * 160 + "x",
    "😀" * 35,
    "😀" * 36,
    "a" * 66 + "😀" + "a" * 10,
    "x" + "😀" * 66,
    "a" * 150 + "€" * 5 + "b" * 200,
    "line one\nline two\r\n",
    "esc \x1b char",
    "Ok 😀",
]


def test_js_segment_counter_matches_python(stack: Stack, browser) -> None:  # noqa: ANN001
    page = sign_in(browser, stack, "alice")
    try:
        results = page.evaluate(
            "samples => samples.map(s => SmsSegments.smsInfo(s))", SEGMENT_SAMPLES
        )
        for text, js in zip(SEGMENT_SAMPLES, results, strict=True):
            py = sms_info(text)
            assert (js["encoding"], js["segments"], js["length"]) == (
                py.encoding,
                py.segments,
                py.length,
            ), repr(text[:30])
    finally:
        page.context.close()
