"""Run the stand-in: python -m devtools.plivo_standin [--host 127.0.0.1] [--port 8008]."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from aiohttp import web
from plivo.utils import is_valid_mainaccount, is_valid_subaccount

from devtools.plivo_standin.phones import is_plausible
from devtools.plivo_standin.server import create_app

WEBHOOK_PATH = "/webhooks/plivo/webhook"
ACCESS_LOG_FORMAT = '%a "%r" %s %b %Tfs'
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _config(env: dict[str, str]) -> tuple[str, str, str, str | None]:
    """(auth_id, auth_token, number, bot webhook URL) from the environment; exits if unusable."""
    auth_id = env.get("PLIVO_AUTH_ID", "").strip()
    auth_token = env.get("PLIVO_AUTH_TOKEN", "").strip()
    number = env.get("PLIVO_NUMBER", "").strip()
    missing = [
        name
        for name, value in (
            ("PLIVO_AUTH_ID", auth_id),
            ("PLIVO_AUTH_TOKEN", auth_token),
            ("PLIVO_NUMBER", number),
        )
        if not value
    ]
    if missing:
        sys.exit(
            f"plivo stand-in: set {', '.join(missing)} in the environment "
            "(the same values the bot uses; no credentials are built in)."
        )
    if not (is_valid_mainaccount(auth_id) or is_valid_subaccount(auth_id)):
        sys.exit(
            "plivo stand-in: PLIVO_AUTH_ID must look like Plivo's (MA or SA + 18 "
            "characters), or the plivo SDK refuses it."
        )
    if not (number.startswith("+") and is_plausible(number)):
        sys.exit("plivo stand-in: PLIVO_NUMBER must be E.164, e.g. +15005550100.")
    public = env.get("BOT_PUBLIC_URL", "").strip().rstrip("/")
    return auth_id, auth_token, number, (public + WEBHOOK_PATH) if public else None


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, read the environment and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m devtools.plivo_standin", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default loopback)")
    parser.add_argument("--port", type=int, default=8008)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    auth_id, auth_token, number, webhook = _config(dict(os.environ))
    log = logging.getLogger("devtools.plivo_standin")
    if webhook is None:
        log.warning("BOT_PUBLIC_URL is not set: inbound messages cannot reach the bot")
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("the control API (/_standin/...) has no auth: bound to %s", args.host)
    log.info(
        "Plivo stand-in for %s (%s); SDK API base http://%s:%d/v1/Account; "
        "simulator http://%s:%d/; bot webhook %s",
        auth_id,
        number,
        args.host,
        args.port,
        args.host,
        args.port,
        webhook,
    )
    app = create_app(auth_id, auth_token, number, webhook)
    web.run_app(
        app, host=args.host, port=args.port, access_log_format=ACCESS_LOG_FORMAT, print=None
    )


if __name__ == "__main__":
    main()
