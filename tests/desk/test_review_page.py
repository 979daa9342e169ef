"""The Review page in a real browser: a supervisor labels a text the bot failed over SMS;
customer text is shown as text (never HTML), numbers masked, no sender; agents get 403;
no sideways scrolling at 390 and 1280 px."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.store.db import session_scope
from bot.store.models import ReviewLabel
from tests.desk.client import DeskClient
from tests.desk.stack import Stack, fresh_phone, sign_in

pytestmark = pytest.mark.slow

HOSTILE = '<img src=x onerror="window.__xss=1"> zqxv blorpf frobnicate 4111 1111 1111 1111'
SHOWN = '<img src=x onerror="window.__xss=1"> zqxv blorpf frobnicate [number]'
KEY = SHOWN.lower()


def assert_no_overflow(page: Any, where: str) -> None:
    widths = page.evaluate(
        "({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
    )
    assert widths["scroll"] <= widths["inner"], f"{where}: {widths}"


def test_a_supervisor_labels_a_failed_text_and_an_agent_may_not(stack: Stack, browser) -> None:
    phone = fresh_phone()
    assert stack.sms.ask(phone, HOSTILE)  # the bot answered it, unsure or out of scope

    agent = DeskClient(stack.desk.url).login("alice")
    assert agent.get("/review").status == 403
    assert agent.get("/api/review").status == 403
    label = {"key": KEY, "text": SHOWN, "label": "out_of_scope"}
    assert agent.post("/api/review/label", label).status == 403
    supervisor = DeskClient(stack.desk.url).login("sue")
    assert supervisor.post("/api/review/label", label, csrf=None).status == 403
    bad = supervisor.post("/api/review/label", {**label, "label": "no_such_intent"})
    assert bad.status == 400
    listed = supervisor.get("/api/review").json()
    assert "out_of_scope" in listed["intents"] and "faq/parking" in listed["intents"]
    assert phone not in supervisor.get("/api/review").text
    keys = [item["key"] for item in listed["items"]]
    assert KEY in keys, listed["items"]

    for width, height in ((390, 844), (1280, 800)):
        page = sign_in(browser, stack, "sue", viewport={"width": width, "height": height})
        page.goto(stack.desk.url + "/review")
        item = page.locator(".review-item", has_text="zqxv blorpf")
        page.wait_for_selector("#review-items[data-loaded]", state="attached")
        if width == 1280:  # labelled at 390 px: hidden until asked for
            assert item.count() == 0
            page.check("#show-decided")
            assert "decided" in (item.get_attribute("class") or "")
        item.wait_for(timeout=15000)
        assert item.get_attribute("data-key") == KEY
        assert item.locator(".review-text").text_content() == SHOWN
        assert page.locator("#review-items img").count() == 0
        assert page.evaluate("window.__xss") is None
        assert phone not in page.content() and "4111" not in page.content()
        assert_no_overflow(page, f"review at {width}px")
        if width == 390:
            item.locator("button", has_text="Out of scope").click()
            page.locator(".review-item.decided", has_text="zqxv blorpf").wait_for()
            assert item.locator(".review-status").text_content() == "Labelled out of scope."
            assert_no_overflow(page, "review at 390px, labelled")
        assert page.errors == []
        page.context.close()

    with session_scope(stack.url) as session:
        row = session.execute(select(ReviewLabel).where(ReviewLabel.text_key == KEY)).scalar_one()
        assert (row.label, row.text, row.decided_by) == ("out_of_scope", SHOWN, stack.people.sue.id)
