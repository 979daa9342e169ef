"""The SMS receiver: Plivo's webhooks, verified, recorded and acknowledged.

    python -m bot.sms.receiver [--host 127.0.0.1] [--port 5006]

Serves /webhooks/plivo/webhook (inbound texts), /webhooks/plivo/status (delivery reports)
and /webhooks/plivo/ (health); Plivo (BOT_PUBLIC_URL) points here. It processes nothing:
each text is one row in `messages`, the queue the workers (python -m bot.sms.worker) claim
from. It starts no other process. Settings are read from the environment once, at start;
a bad value stops it with a message naming the variable.
"""

from __future__ import annotations

import argparse
import logging
from typing import Optional, Sequence

from sanic import Blueprint, Sanic

from bot.settings import Settings, settings_or_exit
from bot.sms import metrics
from bot.sms.plivo_front_door import WEBHOOK_PREFIX, PlivoFrontDoor, plivo_settings
from bot.store.db import use_database, without_pre_ping

logger = logging.getLogger(__name__)

DEFAULT_PORT = 5006


def create_app(settings: Settings) -> Sanic:
    """The receiver's Sanic app (not started)."""
    missing = settings.missing_plivo_settings()
    if missing:
        raise SystemExit(f"sms receiver: set {', '.join(missing)} in the environment")
    app = Sanic("sms_receiver", configure_logging=False)
    plivo = Blueprint("plivo_receiver")
    front_door = PlivoFrontDoor(plivo_settings(settings))
    front_door.add_routes(plivo)

    async def stop_writer(_app: Sanic, _loop: object) -> None:
        front_door.stop()

    app.register_listener(stop_writer, "after_server_stop")
    app.blueprint(plivo, url_prefix=WEBHOOK_PREFIX)
    lock_store = (settings.redis_host, settings.redis_port) if settings.redis_host else None
    metrics.add_routes(app, settings.prometheus_multiproc_dir, lock_store=lock_store)
    return app


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.sms.receiver", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args(argv)
    settings = settings_or_exit("sms receiver")
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    use_database(settings.database_url)
    without_pre_ping()  # each transaction is retried once on a dead connection instead
    app = create_app(settings)
    logger.info("SMS receiver on %s:%d", args.host, args.port)
    app.run(
        host=args.host,
        port=args.port,
        workers=1,
        access_log=settings.receiver_access_log,
        backlog=settings.receiver_backlog,
        motd=False,
    )


if __name__ == "__main__":
    main()
