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
import subprocess
import sys
from typing import List, Optional, Sequence

from bench.rasa_alone import (
    CONVERSATION,
    CUSTOMERS,
    Phase,
    print_rounds,
    start_rasa_alone,
    timed,
)
from bench.rest_throughput import drive, sender_ids
from bot import cpus

BUSY_LOOP = "import os\nos.nice(19)\nwhile True: pass"


async def rest_phase(url: str, rasa_pid: int, messages: int, prefix: int) -> Phase:
    async def load() -> int:
        return (await drive(url, CONVERSATION, CUSTOMERS, messages, sender_ids(prefix))).messages

    return await timed(rasa_pid, load())


def busy_loops(others: set) -> List[subprocess.Popen]:
    return [
        subprocess.Popen([sys.executable, "-c", BUSY_LOOP], preexec_fn=cpus.pin_before_exec({cpu}))
        for cpu in sorted(others)
    ]


async def run(url: str, rasa_pid: int, others: set, messages: int, rounds: int) -> List[tuple]:
    await drive(url, CONVERSATION, CUSTOMERS, 80, sender_ids(80))  # warm-up
    results = []
    for n in range(rounds):
        idle = await rest_phase(url, rasa_pid, messages, 81 + 2 * n)
        loops = busy_loops(others)
        try:
            busy = await rest_phase(url, rasa_pid, messages, 82 + 2 * n)
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
    assistant = cpus.split(cpus.available())
    if assistant is None:
        print("needs 2 or more CPUs", file=sys.stderr)
        return 2
    stack = start_rasa_alone(assistant)
    others = cpus.available() - assistant
    try:
        results = asyncio.run(
            run(stack.url, stack.processes["rasa"].pid, others, args.messages, args.rounds)
        )
    finally:
        stack.stop()
    print_rounds(
        f"REST channel, {CUSTOMERS} customers, {args.messages} messages per phase; Rasa "
        f"server on CPU {cpus.format_cpu_list(assistant)}, other CPUs "
        f"{cpus.format_cpu_list(others)} idle or running a nice-19 busy loop",
        "idle",
        "busy",
        results,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
