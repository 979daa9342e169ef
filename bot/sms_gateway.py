"""The SMS gateway: Plivo's webhooks and the outbox in a process of their own.

    python -m bot.sms_gateway [--host 127.0.0.1] [--port 5006] [--rasa-url URL]

It serves the same routes as the Rasa channel (/webhooks/plivo/webhook, /status, /),
so Plivo (BOT_PUBLIC_URL) points here; it records and acknowledges texts, settles
STOP/HELP/MORE and agent-owned conversations itself, and asks the Rasa server (started
with SMS_FRONT_DOOR=gateway) only for the assistant's answers. The Rasa server's one core
then runs nothing but the assistant. Settings come from the environment (bot.settings).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
from typing import Optional, Sequence

from sanic import Blueprint, Sanic

from bot.phone import to_e164
from bot.plivo_front_door import WEBHOOK_PREFIX, PlivoFrontDoor
from bot.rasa_asker import RasaAsker
from bot.settings import Settings, get_settings

logger = logging.getLogger(__name__)

DEFAULT_PORT = 5006
DEFAULT_CONCURRENCY = 16  # texts being answered at once (the Rasa server queues the rest)


def create_app(settings: Settings, rasa_url: str, concurrency: int = DEFAULT_CONCURRENCY) -> Sanic:
    """The gateway's Sanic app (not started)."""
    missing = settings.missing_plivo_settings()
    if missing:
        raise SystemExit(f"sms gateway: set {', '.join(missing)} in the environment")
    settings = dataclasses.replace(
        settings,
        plivo_number=to_e164(settings.plivo_number) or "",
        bot_public_url=settings.bot_public_url.rstrip("/"),
    )
    app = Sanic("sms_gateway", configure_logging=False)
    asker = RasaAsker(rasa_url, settings.plivo_auth_token)
    app.register_listener(asker.open, "before_server_start")
    app.register_listener(asker.close, "after_server_stop")
    plivo = Blueprint("plivo_gateway")
    PlivoFrontDoor(settings, asker, concurrency).add_routes(plivo)
    app.blueprint(plivo, url_prefix=WEBHOOK_PREFIX)
    return app


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.sms_gateway", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--rasa-url", default=os.environ.get("RASA_URL", "http://127.0.0.1:5005"))
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app = create_app(get_settings(), args.rasa_url, args.concurrency)
    logger.info("SMS gateway on %s:%d, assistant at %s", args.host, args.port, args.rasa_url)
    app.run(host=args.host, port=args.port, workers=1, access_log=False, motd=False)


if __name__ == "__main__":
    main()
