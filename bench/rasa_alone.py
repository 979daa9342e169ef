"""Shared by the control benchmarks: the Rasa server alone, timed phases, paired rounds."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Awaitable, List, Tuple

from bench.procstats import cpu_seconds
from bench.rest_throughput import prepare_our_database
from bot.launcher import DEFAULT_MODEL, RasaStack, start_stack
from bot.settings import PROJECT_ROOT

CONVERSATION = ["hi", "where is my order A1001", "is there wifi", "thanks"]
CUSTOMERS = 8
# The Rasa server needs the SMS channel's settings (credentials.yml) even when only REST is
# used. Nothing is sent anywhere.
ENV = {
    "PLIVO_AUTH_ID": "MABENCHCONTROL000000",
    "PLIVO_AUTH_TOKEN": "bench-token-not-a-secret",
    "PLIVO_NUMBER": "+15005550100",
    "PLIVO_API_URL": "http://127.0.0.1:9",
    "BOT_PUBLIC_URL": "http://127.0.0.1:9",
}

Phase = Tuple[float, float]  # (messages/s, Rasa CPU ms per message)


def start_rasa_alone() -> RasaStack:
    """Rasa + action server on a fresh seeded SQLite database; the caller stops it."""
    work = Path(tempfile.mkdtemp(prefix="rasa-alone-"))
    database_url = f"sqlite:///{work / 'bot.db'}"
    prepare_our_database(database_url)
    return start_stack(
        DEFAULT_MODEL,
        env={"DATABASE_URL": database_url, **ENV},
        log_dir=work,
        credentials=PROJECT_ROOT / "credentials.yml",
    )


async def timed(rasa_pid: int, load: Awaitable[int]) -> Phase:
    """Run a load that returns how many messages were answered."""
    cpu_before, started = cpu_seconds(rasa_pid), time.perf_counter()
    answered = await load
    seconds = time.perf_counter() - started
    return answered / seconds, (cpu_seconds(rasa_pid) - cpu_before) * 1000 / max(answered, 1)


def print_rounds(title: str, first: str, second: str, results: List[Tuple[Phase, Phase]]) -> None:
    """Per round: messages/s and Rasa CPU per message of both phases, second / first."""
    print(title)
    print(
        f"{'round':8}{'msg/s ' + first:>14}{second:>10}{'ratio':>8}"
        f"{'Rasa ms/msg ' + first:>20}{second:>10}{'ratio':>8}"
    )
    rate_ratios, cpu_ratios = [], []
    for n, ((rate_a, cpu_a), (rate_b, cpu_b)) in enumerate(results, 1):
        rate_ratios.append(rate_b / rate_a)
        cpu_ratios.append(cpu_b / cpu_a)
        print(
            f"{n:<8}{rate_a:14.1f}{rate_b:10.1f}{rate_ratios[-1]:8.2f}"
            f"{cpu_a:20.2f}{cpu_b:10.2f}{cpu_ratios[-1]:8.2f}"
        )
    print(
        f"{'median':8}{'':24}{statistics.median(rate_ratios):8.2f}"
        f"{'':30}{statistics.median(cpu_ratios):8.2f}"
    )
