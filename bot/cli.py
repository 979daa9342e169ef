"""Command line: `python -m bot migrate|seed|...`."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
from pathlib import Path
from typing import List, Optional

from bot import notify_commands
from bot.designer.commands import add_commands
from bot.review.training_data import NLU_DIR
from bot.settings import PROJECT_ROOT, settings_or_exit
from bot.store.db import session_scope, use_database
from bot.store.migrate import upgrade
from bot.store.seed import seed

DEFAULT_MODEL = "models/sms-bot.tar.gz"


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


def cmd_publish_model(args: argparse.Namespace) -> int:
    from bot.model_publish import ModelRejected, describe, publish, wait_rolled_out

    settings = args.settings
    args.to = args.to or settings.model_publish_file
    try:
        etag = publish(args.model, args.to)
    except ModelRejected as error:
        print(f"refused: {error}")
        return 1
    print(f"published {args.model} as {etag[:12]} ({args.to})")
    if args.no_wait:
        return 0
    if not settings.model_server_url:
        print("MODEL_SERVER_URL is unset: not waiting for the Rasa servers")
        return 0
    rollout = wait_rolled_out(
        settings.model_server_url, settings.model_server_token, etag, args.timeout, args.servers
    )
    print(describe(rollout, args.timeout))
    return 1 if rollout.behind or len(rollout.servers) < args.servers else 0


def cmd_review(args: argparse.Namespace) -> int:
    from bot.designer.checks import Project
    from bot.review.collect import collect
    from bot.review.labels import labelled_item, labelled_rows, labels, with_labels
    from bot.review.review_file import read_labels, write_review_file
    from bot.review.training_data import add_examples, intent_files

    intents = list(intent_files(args.data))
    if args.apply:
        heldout = Project.load(PROJECT_ROOT).heldout_sets
        result = add_examples(read_labels(args.apply), args.data, heldout)
        for path, lines in result.added.items():
            print(f"added {len(lines)} to {path}")
        for text in result.duplicates:
            print(f"already in the training or test data: {text}")
        for text, label in result.unknown:
            print(f"unknown label {label!r} (not in data/nlu): {text}")
        if result.added:
            print("now: make check && make train (or make reload)")
        return 2 if result.unknown else 0
    if args.export_labels:
        with session_scope() as session:
            items = [labelled_item(row) for row in labelled_rows(session)]
        count = write_review_file(args.export_labels, items, intents)
        print(f"{count} labelled texts written to {args.export_labels}")
        return 0
    since = None
    if args.days:
        since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=args.days)
    items = collect(args.settings.tracker_database_url, args.below, since)
    with session_scope() as session:
        with_labels(items, labels(session))
    count = write_review_file(args.out, items, intents)
    print(f"{count} texts to review written to {args.out}")
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
    publish_model = sub.add_parser(
        "publish-model",
        help="publish a model to the model server; wait until every Rasa server runs it",
    )
    publish_model.add_argument("model", type=Path, nargs="?", default=Path(DEFAULT_MODEL))
    publish_model.add_argument("--to", type=Path, help="default: MODEL_PUBLISH_FILE")
    publish_model.add_argument("--no-wait", action="store_true")
    publish_model.add_argument("--timeout", type=float, default=300.0)
    publish_model.add_argument(
        "--servers", type=int, default=1, help="wait for at least this many Rasa servers"
    )
    publish_model.set_defaults(func=cmd_publish_model)
    review = sub.add_parser(
        "review",
        help="export the texts the bot failed for labelling; apply a labelled file",
    )
    review.add_argument("--out", type=Path, default=Path("review.yml"))
    review.add_argument("--below", type=float, default=0.5, help="low confidence: below this")
    review.add_argument("--days", type=float, help="only texts of the last N days")
    review.add_argument("--apply", type=Path, help="add a labelled file's texts to data/nlu")
    review.add_argument(
        "--export-labels", type=Path, help="write the console's labels as a file to --apply"
    )
    review.add_argument("--data", type=Path, default=NLU_DIR, help="the NLU training files")
    review.set_defaults(func=cmd_review)
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
