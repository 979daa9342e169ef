"""`python -m bot check` and `python -m bot test-bot`: the bot designers' commands."""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path
from typing import Any

from bot.settings import PROJECT_ROOT


def _quiet_rasa() -> None:
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)


def cmd_check(args: argparse.Namespace) -> int:
    """Rasa's validation and the project's own checks; exit 1 with file:line on failure."""
    from bot.designer.checks import Project, render, run_checks

    started = time.perf_counter()
    root = Path(args.root).resolve()
    project = Project.load(root, args.settings.sms_segment_budget)
    problems = run_checks(project)
    if not args.no_rasa:
        _quiet_rasa()
        from bot.designer.rasa_checks import rasa_problems

        problems += rasa_problems(root)
    for line in render(problems, root):
        print(line)
    seconds = time.perf_counter() - started
    if problems:
        print(f"check: {len(problems)} problem(s) ({seconds:.1f} s)")
        return 1
    print(f"check: all passed ({seconds:.1f} s)")
    return 0


def cmd_test_bot(args: argparse.Namespace) -> int:
    """Test stories + NLU figures on the frozen test set; the report under results/."""
    from bot.designer.test_bot import run_test_bot

    _quiet_rasa()
    return run_test_bot(Path(args.model), Path(args.out))


def add_commands(sub: Any) -> None:
    """The designers' subcommands of `python -m bot`."""
    check = sub.add_parser("check", help="validate the training data (make check)")
    check.add_argument("--root", default=str(PROJECT_ROOT), help="project folder to check")
    check.add_argument("--no-rasa", action="store_true", help="only the project's own checks")
    check.set_defaults(func=cmd_check)
    test_bot = sub.add_parser("test-bot", help="test stories and NLU figures (make test-bot)")
    test_bot.add_argument("--model", default=str(PROJECT_ROOT / "models" / "sms-bot.tar.gz"))
    test_bot.add_argument("--out", default=str(PROJECT_ROOT / "results" / "test-bot"))
    test_bot.set_defaults(func=cmd_test_bot)
