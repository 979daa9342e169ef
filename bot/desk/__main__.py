"""`python -m bot.desk [--host 127.0.0.1] [--port 8080]`: serve the agent console."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import List, Optional

from bot.settings import Settings, settings_or_exit


def build_parser(settings: Settings) -> argparse.ArgumentParser:
    """The command line (`--no-maintenance` defaults to DESK_MAINTENANCE=0)."""
    parser = argparse.ArgumentParser(prog="python -m bot.desk", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument(
        "--no-maintenance",
        action="store_true",
        default=not settings.desk_maintenance,
        help="do not run the maintenance loop (auto-assign, presence expiry) in this process",
    )
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Run the console until interrupted."""
    settings = settings_or_exit("agent desk")
    args = build_parser(settings).parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from bot.desk.web import create_app
    from bot.outbound.templates import TemplateError
    from bot.store.db import use_database

    use_database(settings.database_url)  # the maintenance loop and the metrics routes
    try:
        app = create_app(settings, maintenance=not args.no_maintenance)
    except TemplateError as problem:
        print(f"agent desk: {problem}", file=sys.stderr)
        return 2
    app.run(host=args.host, port=args.port, access_log=False, motd=False, workers=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
