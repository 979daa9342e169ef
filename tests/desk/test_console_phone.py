"""The console on a phone (and on a laptop) in a real browser: no page ever scrolls
sideways, an agent claims, replies and resolves at 390 px through the SMS path, and the
transcript shows local times, safe links and the pictures customers send."""

from __future__ import annotations

import base64
import datetime as dt
import re
import struct
import urllib.request
import zlib
from typing import Any, Dict
from zoneinfo import ZoneInfo

import pytest

from bot.store.customers import get_or_create_customer
from bot.store.db import session_scope
from bot.store.models import DeskMaintenanceBeat
from tests.desk.conftest import PASSWORD, save_screenshot
from tests.desk.helpers import queue_chat
from tests.desk.stack import Stack, fresh_phone, mine_item, queue_item, sign_in, wait_held

pytestmark = pytest.mark.slow

PHONE = {"width": 390, "height": 844}
SMALL_PHONE = {"width": 360, "height": 740}
LAPTOP = {"width": 1280, "height": 800}
VIEWPORTS = [
    pytest.param(PHONE, id="390x844"),
    pytest.param(SMALL_PHONE, id="360x740"),
    pytest.param(LAPTOP, id="1280x800"),
]
LONG_TEXT = (
    "My order from last week still has not arrived and the tracking page says "
    "https://tracking.example.com/"
    + "x" * 120
    + " which is really long "
    + "supercalifragilisticexpialidocious" * 3
)
ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2})?")


def overflow(page: Any) -> Dict[str, int]:
    """How wide the document is against the viewport (the page must never scroll sideways)."""
    return page.evaluate(
        "({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
    )


def assert_no_overflow(page: Any, where: str) -> None:
    widths = overflow(page)
    assert widths["scroll"] <= widths["inner"], f"{where}: {widths}"


def box(page: Any, selector: str) -> Dict[str, float]:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, f"{selector} is not displayed"
    return found


def assert_on_screen(page: Any, selector: str) -> None:
    """Visible and wholly inside the viewport, without scrolling."""
    size = page.viewport_size
    b = box(page, selector)
    assert b["width"] > 0 and b["height"] > 0, selector
    assert b["x"] >= 0 and b["y"] >= 0, (selector, b)
    assert b["x"] + b["width"] <= size["width"] + 0.5, (selector, b, size)
    assert b["y"] + b["height"] <= size["height"] + 0.5, (selector, b, size)


def assert_header_readable(page: Any) -> None:
    for selector in ("#me-name", "#logout"):
        assert_on_screen(page, selector)
    name = box(page, "#me-name")
    assert name["width"] >= 48, f"the agent's name is squeezed: {name}"
    assert page.inner_text("#logout") == "Sign out"


def tiny_png(width: int = 4, height: int = 3, rgb: tuple = (200, 30, 60)) -> bytes:
    """A valid PNG of one colour (what a customer's phone would attach)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def name_customer(stack: Stack, phone: str, name: str) -> None:
    with session_scope(stack.url) as session:
        get_or_create_customer(session, phone).name = name


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_no_page_scrolls_sideways(stack: Stack, browser, viewport: Dict[str, int]) -> None:  # noqa: ANN001
    phone = fresh_phone()
    name_customer(stack, phone, "Maximiliana Bartholomew-Featherstonehaugh (orders)")
    queue_chat(stack.url, phone, LONG_TEXT, "order_issue", "orders", detail=LONG_TEXT)
    narrow = viewport["width"] < 760
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    errors: list = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(stack.desk.url + "/login")
        page.wait_for_selector("#login-form")
        assert_no_overflow(page, "login")
        assert_on_screen(page, "#login-submit")
        page.fill("#username", "sue")
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_url(stack.desk.url + "/")
        page.wait_for_selector("#live.on")
        page.wait_for_selector(queue_item(phone))
        assert_no_overflow(page, "queue")
        assert_header_readable(page)
        assert page.is_visible("#queue") and page.is_visible("#mine-count")
        assert page.is_visible("#placeholder") is not narrow  # phones show the lists alone
        page.click(queue_item(phone))
        page.wait_for_selector("#transcript .msg.from-customer")
        assert_no_overflow(page, "chat")
        assert page.is_visible("#transcript")
        assert page.is_visible("#queue") is not narrow
        for selector in ("#claim", "#text", "#send"):
            assert_on_screen(page, selector)
        if viewport["width"] < 1100:  # the customer panel is a drawer
            assert page.is_hidden("#customer")
            page.click("#customer-open")
            page.wait_for_selector("#customer h2")
            assert_on_screen(page, "#customer-close")
            assert_no_overflow(page, "customer drawer")
            page.click("#customer-close")
            assert page.is_hidden("#customer")
        else:
            assert page.is_visible("#customer h2") and page.is_hidden("#customer-open")
        assert "Featherstonehaugh" in page.inner_text("#customer h2")
        if narrow:  # the phone's own back button returns to the lists
            page.go_back()
            page.wait_for_selector("#queue-count")
            assert page.is_hidden("#transcript") and page.url == stack.desk.url + "/"
        with session_scope(stack.url) as session:  # no console runs the loop (any more)
            session.query(DeskMaintenanceBeat).delete()
        page.click("#nav-supervisor")
        page.wait_for_url(stack.desk.url + "/supervisor")
        page.wait_for_selector("#kpi-containment")
        page.wait_for_selector("#waiting tr[data-id]")
        # supervisors are warned that nobody is auto-assigned, readable on any width
        page.wait_for_selector("#maintenance-warning", state="visible")
        warning = page.inner_text("#maintenance-warning")
        assert "No console is running the maintenance loop" in warning
        assert "nobody is auto-assigned" in warning
        b = box(page, "#maintenance-warning")
        assert b["x"] >= 0 and b["x"] + b["width"] <= viewport["width"] + 0.5, b
        if viewport == SMALL_PHONE:
            save_screenshot(page, "supervisor-no-maintenance-360.png")
        assert_no_overflow(page, "supervisor")
        assert_header_readable(page)
        page.click("#nav-review")  # every page carries the same top bar, its own tab marked
        page.wait_for_selector("#review-items[data-loaded]", state="attached")
        assert page.get_attribute(".tabs-nav a[aria-current=page]", "href") == "/review"
        assert_no_overflow(page, "review")
        assert_header_readable(page)
        assert errors == []
    finally:
        context.close()


def test_agent_claims_replies_and_resolves_on_a_phone(stack: Stack, browser) -> None:  # noqa: ANN001
    sms = stack.sms
    phone = fresh_phone()
    name_customer(stack, phone, "Dana Whitfield")
    page = sign_in(browser, stack, "bob", viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page.wait_for_selector("#status.online")
        assert_header_readable(page)
        assert page.is_visible("#nav-requests")  # supervisors' tabs stay hidden from agents
        assert page.is_hidden("#nav-supervisor") and page.is_hidden("#nav-review")
        # the customer texts the business number and asks for a person
        assert sms.ask(phone, "hi")
        handoff_reply = sms.ask(phone, "I want to talk to a person")
        assert "passing you to a person" in handoff_reply
        page.wait_for_selector(queue_item(phone), timeout=15_000)
        assert_no_overflow(page, "queue")
        page.tap(queue_item(phone))
        # the chat replaces the lists; a back control returns to them
        page.wait_for_selector("#transcript .msg.from-bot")
        assert page.is_hidden("#queue")
        assert_on_screen(page, "#back")
        assert_on_screen(page, "#claim")
        page.tap("#claim")
        page.wait_for_selector("#resolve:not([hidden])")
        page.wait_for_selector('#transcript .entry.activity:has-text("Claimed by Bob Chen")')
        for selector in ("#text", "#send", "#resolve", "#transfer-open"):
            assert_on_screen(page, selector)
        assert_no_overflow(page, "claimed chat")
        # the customer panel opens as a drawer over the chat
        page.tap("#customer-open")
        page.wait_for_selector("#customer h2")
        assert page.inner_text("#customer h2") == "Dana Whitfield"
        assert "Asked for a person" in page.inner_text("#customer")
        page.tap("#customer-close")
        assert page.is_hidden("#customer")
        # the reply reaches the customer's phone at the stand-in
        before = len(sms.sent(phone))
        reply = "Hi Dana, this is Bob. I can help with that right here."
        page.fill("#text", reply)
        assert page.get_attribute("#counter", "data-segments") == "1"
        page.tap("#send")
        assert sms.wait_replies(phone, before + 1, timeout=20)[-1] == reply
        page.wait_for_selector(
            '#transcript .msg.from-agent[data-status="delivered"]', timeout=15_000
        )
        assert_no_overflow(page, "after the reply")
        page.fill("#text", "Anything else I can help with?")
        page.wait_for_selector("#flash", state="hidden", timeout=10_000)
        save_screenshot(page, "console-phone.png")
        page.fill("#text", "")
        page.tap("#resolve")
        page.wait_for_selector("#conv-sub .owner-bot")
        page.wait_for_selector(mine_item(phone), state="detached")
        page.tap("#back")
        page.wait_for_selector("#queue-count")
        assert page.is_visible("#mine-count") and page.is_hidden("#transcript")
        assert sms.ask(phone, "hi", timeout=30) != reply  # the bot answers again
        assert page.errors == []
    finally:
        page.context.close()


def test_pictures_links_and_local_times(stack: Stack, browser) -> None:  # noqa: ANN001
    sms = stack.sms
    phone = fresh_phone()
    sms.ask(phone, "AGENT")
    name_customer(stack, phone, "Dana (orders)")
    picture = tiny_png()
    sent = sms.text(
        phone,
        "this is what came",
        attachments=[{"content_type": "image/png", "data": base64.b64encode(picture).decode()}],
    )
    assert sent["status"] == 200
    wait_held(stack, phone, "this is what came")
    sms.text(phone, "", media=["javascript:alert(1)"])  # a picture URL that must not be a link
    links_text = "see https://example.com/a?b=1 and javascript:alert(2) <b>x</b>"
    sms.text(phone, links_text)
    wait_held(stack, phone, links_text)
    tz = "Asia/Tokyo"
    page = sign_in(browser, stack, "alice", viewport=PHONE, timezone_id=tz, locale="en-US")
    try:
        page.wait_for_selector(queue_item(phone))
        assert page.inner_text(f"{queue_item(phone)} .avatar") == "DO"
        initials = {
            "Dana (orders)": "DO",
            "(Dana)": "D",
            "O'Brien, Pat": "OP",
            "josé ñúñez": "JÑ",
            "😀 Sam": "S",
            "#": "?",
            "  ": "?",
        }
        shown = page.evaluate("names => names.map(n => Desk.initials(n))", list(initials))
        assert dict(zip(initials, shown, strict=True)) == initials
        page.click(queue_item(phone))
        page.click("#claim")
        page.wait_for_selector("#resolve:not([hidden])")  # on a phone the lists are hidden
        # the picture opens from the transcript, served by the provider (the stand-in)
        link = page.locator("#transcript a.media-link")
        assert link.count() == 1
        href = link.get_attribute("href")
        assert href.startswith(sms.standin.url + "/Account/")
        assert set(link.get_attribute("rel").split()) >= {"noopener", "noreferrer"}
        assert link.get_attribute("target") == "_blank"
        with page.context.expect_page() as opened:
            link.click()
        picture_page = opened.value
        picture_page.wait_for_load_state()
        assert picture_page.url == href
        assert picture_page.evaluate("document.contentType") == "image/png"
        shown = picture_page.evaluate("[...document.images].map(i => i.naturalWidth)")
        assert shown == [4]
        assert picture_page.evaluate("window.opener") is None  # noopener
        picture_page.close()
        with urllib.request.urlopen(href, timeout=5) as direct:  # what the stand-in recorded
            assert direct.read() == picture
        # only http(s) becomes a link; what customers type stays text
        hrefs = page.eval_on_selector_all("#transcript a", "links => links.map(a => a.href)")
        assert "https://example.com/a?b=1" in hrefs
        assert all(h.startswith(("http://", "https://")) for h in hrefs)
        assert page.locator("#transcript b, #transcript img").count() == 0
        assert "[picture]" in page.locator("#transcript .bubble").all_inner_texts()
        assert links_text in page.locator("#transcript .bubble").all_inner_texts()
        # times in the agent's timezone, readable; no ISO strings anywhere
        stamp = page.locator("#transcript time").last
        moment = dt.datetime.fromisoformat(stamp.get_attribute("datetime").replace("Z", "+00:00"))
        local = moment.astimezone(ZoneInfo(tz))
        assert local.strftime("%I:%M") in stamp.inner_text()
        assert "JST" in stamp.get_attribute("title") or "GMT+9" in stamp.get_attribute("title")
        page.click("#customer-open")
        page.wait_for_selector("#customer h2")
        assert page.inner_text("#customer .avatar") == "DO"
        visible = page.inner_text("body")
        assert not ISO_MOMENT.search(visible), ISO_MOMENT.search(visible)
        assert page.errors == []
    finally:
        page.context.close()


@pytest.mark.parametrize(
    "viewport", [pytest.param(PHONE, id="390x844"), pytest.param(LAPTOP, id="1280x800")]
)
def test_optout_banner_leaves_the_transcript_readable(stack: Stack, browser, viewport) -> None:  # noqa: ANN001
    phone = fresh_phone()
    stack.sms.ask(phone, "AGENT")
    for text in ("first question", "second question", "third question"):
        stack.sms.text(phone, text)
        wait_held(stack, phone, text)
    stack.sms.ask(phone, "STOP")
    page = sign_in(browser, stack, "sue", viewport=viewport)
    try:
        page.wait_for_selector(queue_item(phone))
        page.click(queue_item(phone))
        page.click("#claim")
        page.wait_for_selector("#resolve:not([hidden])")  # on a phone the lists are hidden
        page.wait_for_selector("#optout-banner:not([hidden])")
        page.wait_for_selector('#transcript .msg .bubble:text-is("third question")')
        # scrolled to its top, in one go (a live update re-renders and scrolls to the end)
        seen = page.evaluate(
            """() => {
                const list = document.querySelector('#transcript');
                list.scrollTop = 0;
                const rect = (node) => node.getBoundingClientRect();
                const first = list.querySelector('li');
                const r = rect(first);
                const drawn = document.elementFromPoint(r.left + r.width / 2, r.top + 4);
                return {banner: rect(document.querySelector('#optout-banner')).toJSON(),
                        transcript: rect(list).toJSON(), first: r.toJSON(),
                        drawn: first.contains(drawn)};
            }"""
        )
        banner, transcript, first = seen["banner"], seen["transcript"], seen["first"]
        assert transcript["top"] >= banner["bottom"] - 0.5, seen
        assert first["top"] >= banner["bottom"], seen
        assert seen["drawn"] is True, seen  # the first entry is drawn there, not the banner
        # and it leaves the transcript most of the room
        assert banner["height"] <= 64, seen
        assert transcript["height"] >= max(4 * banner["height"], 0.35 * viewport["height"])
        assert_no_overflow(page, "opted-out chat")
    finally:
        page.context.close()
