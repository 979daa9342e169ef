"""`python -m bot notify ...` (a call of the notification API, for people) and
`python -m bot orders set-status ...` (an order's status change, texting the customer)."""

from __future__ import annotations

import argparse
import json
import urllib.error
import urllib.request
import uuid
from typing import Any, Dict, Tuple

DEFAULT_URL = "http://127.0.0.1:8080"


def call_api(url: str, token: str, body: Dict[str, Any], timeout: float = 30) -> Tuple[int, Any]:
    """POST JSON with the bearer token: (status, parsed answer)."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode("utf-8"),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as problem:
        raw = problem.read()
        try:
            return problem.code, json.loads(raw or b"{}")
        except ValueError:
            return problem.code, {"error": raw.decode("utf-8", "replace")}


def cmd_notify(args: argparse.Namespace) -> int:
    token = args.token or (args.settings.notify_api_tokens or ("",))[0]
    if not token:
        print("error: no token: pass --token or set NOTIFY_API_TOKENS")
        return 2
    to = args.to[0] if len(args.to) == 1 else args.to
    body: Dict[str, Any] = {
        "to": to,
        "template": args.template,
        "idempotency_key": args.key or f"cli-{uuid.uuid4()}",
    }
    if args.order:
        body["order"] = args.order
    if args.request:
        body["request"] = args.request
    status, answer = call_api(args.url.rstrip("/") + "/api/v1/notifications", token, body)
    print(json.dumps(answer, indent=2))
    return 0 if status in (200, 202) else 1


def cmd_orders_set_status(args: argparse.Namespace) -> int:
    from bot.outbound.notifications import NotifyProblem, set_order_status
    from bot.outbound.templates import ALL_TEMPLATES, load_templates
    from bot.store.db import session_scope

    settings = args.settings
    templates = load_templates(settings.business_name, required=ALL_TEMPLATES)
    data = {"status": args.status, "carrier": args.carrier, "tracking": args.tracking}
    data["eta"] = args.eta
    try:
        with session_scope() as session:
            answer = set_order_status(
                session,
                settings,
                templates,
                args.number,
                {k: v for k, v in data.items() if v is not None},
            )
    except NotifyProblem as problem:
        print(f"error: {problem.message}")
        return 2
    print(json.dumps(answer, indent=2, default=str))
    return 0


def add_commands(sub: Any) -> None:
    """Add `notify` and `orders` to the CLI's subcommands."""
    notify = sub.add_parser("notify", help="send a notification through the API")
    notify.add_argument("--to", nargs="+", required=True, help="one number or several")
    notify.add_argument("--template", required=True, help="e.g. order_shipped")
    notify.add_argument("--order", help="the order (order_* templates)")
    notify.add_argument("--request", help="the room request, e.g. R2 (booking_* templates)")
    notify.add_argument("--key", help="idempotency key (default: a new one)")
    notify.add_argument("--url", default=DEFAULT_URL, help=f"the console (default {DEFAULT_URL})")
    notify.add_argument("--token", help="bearer token (default: NOTIFY_API_TOKENS' first)")
    notify.set_defaults(func=cmd_notify)
    orders = sub.add_parser("orders", help="orders").add_subparsers(
        dest="orders_command", required=True
    )
    status = orders.add_parser("set-status", help="change an order's status (texts once)")
    status.add_argument("number")
    status.add_argument("status")
    status.add_argument("--carrier")
    status.add_argument("--tracking")
    status.add_argument("--eta", help="YYYY-MM-DD")
    status.set_defaults(func=cmd_orders_set_status)
