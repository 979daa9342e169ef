"""The notification API takes bearer tokens only: a signed-in agent's session (with its
CSRF token) is no credential there, and a console without NOTIFY_API_TOKENS refuses all."""

from __future__ import annotations

from typing import Callable

from sqlalchemy import func, select

from bot.store.db import session_scope
from bot.store.models import OutboundText
from bot.store.seed import ALEX
from tests.desk.client import DeskClient
from tests.desk.server import DeskServer
from tests.notify_api import TOKEN, api

BODY = {"to": ALEX, "template": "order_shipped", "order": "A1001", "idempotency_key": "k1"}


def test_a_session_is_no_credential_and_no_tokens_refuse_all(
    desk: DeskServer, signed_in: Callable[[str], DeskClient]
) -> None:
    alice = signed_in("alice")
    assert alice.get("/api/me").status == 200
    for path in ("/api/v1/notifications", "/api/v1/orders/A1001/status"):
        response = alice.post(path, BODY)
        assert response.status == 401, path
        assert response.headers.get("WWW-Authenticate", "").startswith("Bearer")
    assert alice.get("/api/v1/notifications/1").status == 401
    # this console has no NOTIFY_API_TOKENS: any token is refused
    code, _ = api(desk.url, "POST", "/api/v1/notifications", BODY, token=TOKEN)
    assert code == 401
    with session_scope(desk.database_url) as session:
        assert session.execute(select(func.count(OutboundText.id))).scalar_one() == 0


def test_the_openapi_file_documents_every_token_route() -> None:
    import re

    import yaml

    from bot.desk.web.app import create_app
    from bot.settings import PROJECT_ROOT, Settings

    spec = yaml.safe_load((PROJECT_ROOT / "docs/openapi/notifications.yaml").read_text())
    documented = {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}
    app = create_app(Settings(), maintenance=False)
    served = set()
    for route in app.router.routes:
        if getattr(route.ctx, "token", False):
            path = "/" + re.sub(r"<(\w+)(:[^>]*)?>", r"{\1}", route.path.lstrip("/"))
            path = path.replace("{text_id}", "{id}")
            served |= {(method, path) for method in route.methods}
    assert served and served == documented
