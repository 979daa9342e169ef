"""The web SMS simulator: a phone-style page served by the stand-in at GET /."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from aiohttp import web

from bot.store.seed import CUSTOMERS
from devtools.plivo_standin.state import STATE

PAGE = Path(__file__).with_name("static") / "simulator.html"


@lru_cache(maxsize=1)
def _page() -> str:
    """The page's HTML (read once)."""
    return PAGE.read_text(encoding="utf-8")


async def simulator_page(request: web.Request) -> web.Response:
    """GET /: the simulator page (static; data comes from the JSON endpoints)."""
    return web.Response(
        text=_page(),
        content_type="text/html",
        headers={
            "Cache-Control": "no-store",
            "Content-Security-Policy": (
                "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                "connect-src 'self'; img-src 'self' data:"
            ),
        },
    )


async def customers(request: web.Request) -> web.Response:
    """GET /_standin/customers: the demo customers and the business number."""
    people = [{"phone": phone, "name": name} for phone, (name, _email) in CUSTOMERS.items()]
    state = request.app[STATE]
    return web.json_response(
        {
            "customers": people,
            "business_number": state.business_number,
            "bot_webhook_url": state.bot_webhook_url,
        }
    )


def add_routes(app: web.Application) -> None:
    """Register the page and its data endpoint."""
    app.router.add_get("/", simulator_page)
    app.router.add_get("/_standin/customers", customers)
