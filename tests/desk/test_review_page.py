"""The Review page in a real browser: a supervisor labels texts the bot failed over SMS
(out of scope, an intent picked and saved, a skip), stored through the page's own POST and
exported by `python -m bot review --export-labels`; customer text is shown as text (never
HTML), numbers masked, no sender; agents get 403; no sideways scrolling at 390 and 1280 px."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from bot.launcher import child_env
from bot.settings import PROJECT_ROOT
from bot.store.db import session_scope
from bot.store.models import ReviewLabel
from bot.text.masking import normalise
from tests.desk.client import DeskClient
from tests.desk.stack import Stack, fresh_phone, sign_in

pytestmark = pytest.mark.slow

HOSTILE = '<img src=x onerror="window.__xss=1"> zqxv blorpf frobnicate 4111 1111 1111 1111'
SHOWN = '<img src=x onerror="window.__xss=1"> zqxv blorpf frobnicate [number]'
KEY = SHOWN.lower()
PICKED = "plimbo wazzock trundle grommet"  # labelled faq/wifi (picked, saved) at 390 px
SKIPPED = "vexil snorf quabble dringo"  # skipped at 1280 px


def assert_no_overflow(page: Any, where: str) -> None:
    widths = page.evaluate(
        "({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
    )
    assert widths["scroll"] <= widths["inner"], f"{where}: {widths}"


def test_a_supervisor_labels_a_failed_text_and_an_agent_may_not(
    stack: Stack, browser, tmp_path: Path
) -> None:
    phone = fresh_phone()
    assert stack.sms.ask(phone, HOSTILE)  # the bot answered it, unsure or out of scope
    for text in (PICKED, SKIPPED):
        assert stack.sms.ask(fresh_phone(), text)

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
    assert {KEY, normalise(PICKED), normalise(SKIPPED)} <= set(keys), listed["items"]

    for width, height in ((390, 844), (1280, 800)):
        page = sign_in(browser, stack, "sue", viewport={"width": width, "height": height})
        page.goto(stack.desk.url + "/review")
        item = page.locator(".review-item", has_text="zqxv blorpf")
        page.wait_for_selector("#review-items[data-loaded]", state="attached")
        picked = page.locator(".review-item", has_text=PICKED)
        skipped = page.locator(".review-item", has_text=SKIPPED)
        if width == 1280:  # labelled at 390 px: hidden until asked for
            assert item.count() == 0 and picked.count() == 0
            skipped.locator("button", has_text="Skip").click()
            page.locator(".review-item.decided", has_text=SKIPPED).wait_for()
            assert skipped.locator(".review-status").text_content() == "Skipped."
            page.reload()  # what the server stored, not what the page remembers
            page.wait_for_selector("#review-items[data-loaded]", state="attached")
            assert skipped.count() == 0
            page.check("#show-decided")
            assert "decided" in (item.get_attribute("class") or "")
            for row, said in ((picked, "Labelled faq/wifi."), (skipped, "Skipped.")):
                assert "decided" in (row.get_attribute("class") or "")
                assert row.locator(".review-status").text_content() == said
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
            picked.locator("select.review-pick").select_option("faq/wifi")
            picked.locator("button", has_text="Save").click()
            page.locator(".review-item.decided", has_text=PICKED).wait_for()
            assert picked.locator(".review-status").text_content() == "Labelled faq/wifi."
            assert_no_overflow(page, "review at 390px, labelled")
        assert page.errors == []
        page.context.close()

    with session_scope(stack.url) as session:
        row = session.execute(select(ReviewLabel).where(ReviewLabel.text_key == KEY)).scalar_one()
        assert (row.label, row.text, row.decided_by) == ("out_of_scope", SHOWN, stack.people.sue.id)
        query = select(ReviewLabel).where(ReviewLabel.text_key == normalise(SKIPPED))
        row = session.execute(query).scalar_one()
        assert (row.label, row.decided_by) == (None, stack.people.sue.id)  # skipped

    out = tmp_path / "labels.yml"
    done = subprocess.run(
        [sys.executable, "-m", "bot", "review", "--export-labels", str(out)],
        cwd=PROJECT_ROOT,
        env=child_env({"DATABASE_URL": stack.url}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    exported = {item["text"]: item["label"] for item in yaml.safe_load(out.read_text())["items"]}
    assert exported[SHOWN] == "out_of_scope" and exported[PICKED] == "faq/wifi"
    assert SKIPPED not in exported  # a skip is no training data
