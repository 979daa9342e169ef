"""The web SMS simulator in a real browser: text the bot, see the reply, XSS stays text."""

from __future__ import annotations

import base64
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

from tests.browser.conftest import save_screenshot
from tests.sms_harness import SmsSetup, running_sms_setup

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sms(tmp_path_factory: pytest.TempPathFactory, trained_model: Path) -> Iterator[SmsSetup]:
    with running_sms_setup(tmp_path_factory.mktemp("simulator"), trained_model) as setup:
        yield setup


def test_texting_from_the_simulator_page(sms: SmsSetup, browser) -> None:  # noqa: ANN001
    page = browser.new_page(viewport={"width": 1000, "height": 780})
    try:
        page.goto(sms.standin.url + "/")
        page.get_by_role("button", name="Alex Rivera").click()
        for text in ("hi", "wheres my order A1001", "is there wifi"):
            page.fill("#text", text)
            page.click("#send")
            page.wait_for_function(
                "n => document.querySelectorAll('.them .bubble').length >= n",
                arg=["hi", "wheres my order A1001", "is there wifi"].index(text) + 1,
                timeout=30_000,
            )
        bubbles = page.locator(".them .bubble").all_inner_texts()
        assert "A1001 has shipped with UPS" in bubbles[1]
        assert "wifi" in bubbles[2].lower()
        save_screenshot(page, "simulator.png")
    finally:
        page.close()


def test_script_payloads_render_as_text(sms: SmsSetup, browser) -> None:  # noqa: ANN001
    page = browser.new_page()
    try:
        page.goto(sms.standin.url + "/")
        page.fill("#other", "+15005550077")
        page.click("#other-form button")
        payload = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>'
        page.fill("#text", payload)
        page.click("#send")
        page.wait_for_selector(".me .bubble", timeout=10_000)
        page.wait_for_selector(".them .bubble", timeout=30_000)
        assert page.locator(".me .bubble").first.inner_text() == payload
        assert page.locator("#messages img").count() == 0
        assert page.evaluate("window.pwned") is None
    finally:
        page.close()


def test_a_picture_from_the_simulator_is_served_by_the_stand_in(sms: SmsSetup, browser) -> None:  # noqa: ANN001
    png = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"
    )
    page = browser.new_page()
    try:
        page.goto(sms.standin.url + "/")
        page.get_by_role("button", name="Jordan Kim").click()
        page.set_input_files(
            "#picture", {"name": "room.png", "mimeType": "image/png", "buffer": png}
        )
        page.fill("#text", "the stain on the carpet")
        page.click("#send")
        link = page.wait_for_selector(".me .media a", timeout=10_000)
        url = link.get_attribute("href")
        assert url.startswith(sms.standin.url + "/Account/")
        assert link.get_attribute("rel") == "noopener noreferrer"
        with urllib.request.urlopen(url, timeout=5) as response:
            assert response.headers["Content-Type"] == "image/png"
            assert response.read() == png
        # the bot got it as an MMS and answered politely
        page.wait_for_selector('.them .bubble:has-text("picture")', timeout=30_000)
    finally:
        page.close()
