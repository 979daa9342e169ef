"""Command line: `python -m bot migrate|seed|...`."""

from __future__ import annotations

import argparse
import logging
from typing import List, Optional

from bot import notify_commands
from bot.designer.commands import add_commands
from bot.settings import settings_or_exit
from bot.store.db import session_scope, use_database
from bot.store.migrate import upgrade
from bot.store.seed import seed


def cmd_migrate(args: argparse.Namespace) -> int:
    upgrade(args.settings.database_url)
    print("database migrated")
    return 0


def cmd_seed(_args: argparse.Namespace) -> int:
    with session_scope() as session:
        seed(session)
    print("demo data seeded")
    return 0


def cmd_agents_add(args: argparse.Namespace) -> int:
    import getpass

    from bot.desk.agents import create_agent

    password = args.password or getpass.getpass(f"Password for {args.username}: ")
    with session_scope() as session:
        agent = create_agent(
            session,
            args.username,
            args.name or args.username,
            password,
            role=args.role,
            teams=args.teams.split(","),
            capacity=args.capacity,
        )
    print(
        f"added {agent.role} {agent.username} (teams: {', '.join(agent.teams)}, "
        f"capacity {agent.capacity})"
    )
    return 0


def cmd_agents_list(_args: argparse.Namespace) -> int:
    from bot.desk.agents import list_agents, loads

    with session_scope() as session:
        agents, load = list_agents(session), loads(session)
    for a in agents:
        print(
            f"{a.username:16} {a.role:10} {a.status:8} {load.get(a.id, 0)}/{a.capacity:<3} "
            f"{','.join(a.teams):24} {a.name}"
        )
    return 0


def cmd_agents_password(args: argparse.Namespace) -> int:
    import getpass

    from bot.desk.agents import set_password

    password = args.password or getpass.getpass(f"New password for {args.username}: ")
    with session_scope() as session:
        set_password(session, args.username, password)
    print(f"password changed for {args.username}")
    return 0


def cmd_demo_agents(_args: argparse.Namespace) -> int:
    from bot.desk.demo_agents import ensure_demo_agents

    for line in ensure_demo_agents():
        print(line)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("seed", help="load demo customers and orders").set_defaults(func=cmd_seed)
    sub.add_parser(
        "demo-agents", help="create the demo supervisor and agents; print their logins"
    ).set_defaults(func=cmd_demo_agents)
    agents = sub.add_parser("agents", help="manage agent desk users").add_subparsers(
        dest="agents_command", required=True
    )
    add = agents.add_parser("add", help="add an agent or supervisor")
    add.add_argument("username")
    add.add_argument("--name")
    add.add_argument("--role", choices=["agent", "supervisor"], default="agent")
    add.add_argument("--teams", default="general", help="comma-separated, e.g. orders,general")
    add.add_argument("--capacity", type=int, default=10)
    add.add_argument("--password", help="prompted for when omitted")
    add.set_defaults(func=cmd_agents_add)
    agents.add_parser("list", help="list agents").set_defaults(func=cmd_agents_list)
    password = agents.add_parser("password", help="set an agent's password")
    password.add_argument("username")
    password.add_argument("--password")
    password.set_defaults(func=cmd_agents_password)
    add_commands(sub)
    notify_commands.add_commands(sub)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    args.settings = settings_or_exit("python -m bot")
    use_database(args.settings.database_url)  # the commands' session_scope()
    try:
        return args.func(args)
    except ValueError as error:
        print(f"error: {error}")
        return 2
