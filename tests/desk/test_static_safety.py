"""The console's static files: no HTML sinks in the scripts, nothing inline in the pages
(the Content-Security-Policy would block it anyway), no external assets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "bot" / "desk" / "web" / "static"
SCRIPTS = sorted(STATIC.glob("*.js"))
PAGES = sorted(STATIC.glob("*.html"))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_scripts_never_parse_html(script: Path) -> None:
    source = script.read_text(encoding="utf-8")
    for sink in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "new Function",
        "DOMParser",
        "createContextualFragment",
        "srcdoc",
    ):
        assert sink not in source, f"{script.name} uses {sink}"
    assert not re.search(r"setAttribute\(\s*[\"']on", source)
    assert not re.search(r"\.on\w+\s*=", source)  # handlers only via addEventListener


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_pages_have_nothing_inline_or_external(page: Path) -> None:
    html = page.read_text(encoding="utf-8")
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert re.search(r'src="/static/[\w.]+\.js"', tag), tag
    assert not re.search(r"<script\b[^>]*>\s*[^<\s]", html)  # no inline code
    assert "<style" not in html and " style=" not in html
    assert not re.search(r"\son[a-z]+=", html)  # no inline handlers
    assert not re.search(r"(src|href)=\"(https?:)?//", html)  # nothing from elsewhere
    assert "javascript:" not in html


def test_every_page_asset_is_served() -> None:
    from bot.desk.web.pages import ASSETS

    referenced = set()
    for page in PAGES:
        referenced.update(re.findall(r'/static/([\w.]+)"', page.read_text(encoding="utf-8")))
    assert referenced <= ASSETS
    assert all((STATIC / name).exists() for name in ASSETS)
