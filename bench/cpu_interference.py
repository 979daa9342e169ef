"""How much a busy second CPU slows the Rasa server on its own CPU (a control experiment).

Usage:
    .venv/bin/python -m bench.cpu_interference [--messages 800] [--rounds 3]

The SMS path runs more processes than the REST channel (receiver, dispatcher, and in the
benchmark the Plivo stand-in and the phones), so the machine's other CPUs are busier while
the assistant answers texts. This measures what that alone costs the assistant, with
nothing SMS-specific: the REST channel, the Rasa server on a CPU of its own (the split of
`make run`, bot/cpus.py), and in alternate rounds a busy loop on every other CPU at the
lowest priority (nice 19, so the action server, which shares those CPUs, still gets them
at once). Printed side by side: messages/s and the Rasa server's CPU time per message with
the other CPUs idle and busy, per round and their ratio. On a physical core of its own the
ratio would be 1.00; on a VM whose virtual CPUs share the host's cores and caches it is not.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from bench.procstats import cpu_seconds
from bench.rest_throughput import drive, prepare_our_database, sender_ids
from bot import cpus
from bot.launcher import DEFAULT_MODEL, start_stack
from bot.settings import PROJECT_ROOT

CONVERSATION = ["hi", "where is my order A1001", "is there wifi", "thanks"]
# The Rasa server needs the SMS channel's settings (credentials.yml) even when only REST is
# used; the gateway front door keeps the outbox out of it. Nothing is sent anywhere.
ENV = {
    "SMS_FRONT_DOOR": "gateway",
    "PLIVO_AUTH_ID": "MABENCHCONTROL000000",
    "PLIVO_AUTH_TOKEN": "bench-token-not-a-secret",
    "PLIVO_NUMBER": "+15005550100",
    "PLIVO_API_URL": "http://127.0.0.1:9",
    "BOT_PUBLIC_URL": "http://127.0.0.1:9",
}
BUSY_LOOP = "import os, sys\nos.nice(19)\nwhile True: pass"

Phase = Tuple[float, float]  # (messages/s, Rasa CPU ms per message)


async def phase(url: str, rasa_pid: int, messages: int, prefix: int) -> Phase:
    cpu_before, started = cpu_seconds(rasa_pid), time.perf_counter()
    result = await drive(url, CONVERSATION, 8, messages, sender_ids(prefix))
    seconds = time.perf_counter() - started
    cpu_ms = (cpu_seconds(rasa_pid) - cpu_before) * 1000 / max(result.messages, 1)
    return result.messages / seconds, cpu_ms


def busy_loops(others: set) -> List[subprocess.Popen]:
    return [
        subprocess.Popen([sys.executable, "-c", BUSY_LOOP], preexec_fn=cpus.pin_before_exec({cpu}))
        for cpu in sorted(others)
    ]


async def run(url: str, rasa_pid: int, others: set, messages: int, rounds: int) -> List[tuple]:
    await drive(url, CONVERSATION, 8, 80, sender_ids(80))  # warm-up
    results = []
    for n in range(rounds):
        idle = await phase(url, rasa_pid, messages, 81 + 2 * n)
        loops = busy_loops(others)
        try:
            busy = await phase(url, rasa_pid, messages, 82 + 2 * n)
        finally:
            for loop in loops:
                loop.kill()
                loop.wait()
        results.append((idle, busy))
    return results


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cpu_interference")
    parser.add_argument("--messages", type=int, default=800)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    assistant, others = cpus.assistant_cpus({}), cpus.other_cpus({})
    if assistant is None or not others:
        print("needs 2 or more CPUs", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="cpu-interference-"))
    database_url = f"sqlite:///{work / 'bot.db'}"
    prepare_our_database(database_url)
    stack = start_stack(
        DEFAULT_MODEL,
        env={"DATABASE_URL": database_url, **ENV},
        log_dir=work,
        credentials=PROJECT_ROOT / "credentials.yml",
        assistant_cpus=assistant,
    )
    try:
        results = asyncio.run(
            run(stack.url, stack.processes["rasa"].pid, others, args.messages, args.rounds)
        )
    finally:
        stack.stop()
    print(
        f"REST channel, 8 customers, {args.messages} messages per phase; Rasa server on CPU "
        f"{cpus.format_cpu_list(assistant)}, other CPUs {cpus.format_cpu_list(others)} idle or "
        "running a nice-19 busy loop"
    )
    print(
        f"{'round':8}{'msg/s idle':>12}{'msg/s busy':>12}{'ratio':>8}"
        f"{'Rasa ms/msg idle':>18}{'busy':>8}{'ratio':>8}"
    )
    rate_ratios, cpu_ratios = [], []
    for n, ((rate_idle, cpu_idle), (rate_busy, cpu_busy)) in enumerate(results, 1):
        rate_ratios.append(rate_busy / rate_idle)
        cpu_ratios.append(cpu_busy / cpu_idle)
        print(
            f"{n:<8}{rate_idle:12.1f}{rate_busy:12.1f}{rate_ratios[-1]:8.2f}"
            f"{cpu_idle:18.2f}{cpu_busy:8.2f}{cpu_ratios[-1]:8.2f}"
        )
    print(
        f"{'median':8}{'':24}{statistics.median(rate_ratios):8.2f}"
        f"{'':26}{statistics.median(cpu_ratios):8.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
