"""Command line: `python -m bot migrate|seed|...`."""

from __future__ import annotations

import argparse
import logging
from typing import List, Optional

from bot.db import session_scope
from bot.migrate import upgrade
from bot.seed import seed


def cmd_migrate(_args: argparse.Namespace) -> int:
    upgrade()
    print("database migrated")
    return 0


def cmd_seed(_args: argparse.Namespace) -> int:
    with session_scope() as session:
        seed(session)
    print("demo data seeded")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("seed", help="load demo customers and orders").set_defaults(func=cmd_seed)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    return args.func(args)
