"""The console's pages and static assets (a fixed list of files, no directory serving)."""

from __future__ import annotations

from pathlib import Path

from sanic import Sanic
from sanic.exceptions import NotFound
from sanic.request import Request
from sanic.response import HTTPResponse, raw

STATIC = Path(__file__).with_name("static")
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
ASSETS = frozenset(
    {
        "common.js",
        "console.js",
        "segments.js",
        "supervisor.js",
        "console.css",
        "search.js",
        "canned_editor.js",
        "agent_figures.js",
        "notification_figures.js",
        "requests.js",
        "requests.css",
        "review.js",
        "surveys.js",
    }
)


def _file(name: str) -> HTTPResponse:
    path = STATIC / name
    return raw(
        path.read_bytes(),
        content_type=TYPES[path.suffix],
        headers={"Cache-Control": "no-cache"},
    )


TOPBAR_MARK = "<!-- topbar -->"


def page_html(name: str) -> str:
    """A page with the shared top bar (static/topbar.html) in place, its own tab marked."""
    marked = f'data-page="{name}"'
    topbar = (STATIC / "topbar.html").read_text(encoding="utf-8")
    topbar = topbar.replace(marked, f'{marked} class="active" aria-current="page"')
    return (STATIC / f"{name}.html").read_text(encoding="utf-8").replace(TOPBAR_MARK, topbar)


def _page(name: str) -> HTTPResponse:
    return raw(
        page_html(name).encode("utf-8"),
        content_type=TYPES[".html"],
        headers={"Cache-Control": "no-cache"},
    )


def register(app: Sanic) -> None:
    """Add the page and asset routes."""

    @app.get("/")
    async def console(request: Request) -> HTTPResponse:
        """GET /: the agent console page."""
        return _page("console")

    @app.get("/supervisor", ctx_role="supervisor")
    async def supervisor(request: Request) -> HTTPResponse:
        """GET /supervisor: the supervisor page (supervisors only)."""
        return _page("supervisor")

    @app.get("/requests")
    async def requests_page(request: Request) -> HTTPResponse:
        """GET /requests: room requests to confirm, decline or edit (agents, supervisors)."""
        return _page("requests")

    @app.get("/review", ctx_role="supervisor")
    async def review(request: Request) -> HTTPResponse:
        """GET /review: label texts the bot failed (supervisors only)."""
        return _page("review")

    @app.get("/static/<name:str>", ctx_public=True, ctx_asset=True)
    async def asset(request: Request, name: str) -> HTTPResponse:
        """GET /static/<name>: one of the listed static files."""
        if name not in ASSETS:
            raise NotFound("no such file")
        return _file(name)
