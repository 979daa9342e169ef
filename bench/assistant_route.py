"""The assistant's SMS route vs its REST route, driven the same way (a control experiment).

Usage:
    .venv/bin/python -m bench.assistant_route [--messages 800] [--rounds 4]

The SMS gateway asks the Rasa server for each answer over `POST /webhooks/plivo/process`
(HMAC-signed, with the text's metadata). This drives that route directly, like the
gateway does but with nothing else running (no receiver, dispatcher, stand-in), in rounds
alternating with the REST channel: 8 customers, one message at a time each, the same
conversation. Printed per round: messages/s and the Rasa server's CPU time per message on
each route, and their ratios. It tells the assistant's own cost of an SMS apart from what
the rest of the SMS path costs the machine (bench/sms_throughput.py).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Iterator, List, Optional, Sequence, Tuple

import aiohttp

from bench.cpu_interference import CONVERSATION, ENV
from bench.procstats import cpu_seconds
from bench.rest_throughput import drive, prepare_our_database, sender_ids
from bot import gateway_auth
from bot.launcher import DEFAULT_MODEL, start_stack
from bot.rasa_asker import PROCESS_PATH
from bot.settings import PROJECT_ROOT

CUSTOMERS = 8
Phase = Tuple[float, float]  # (messages/s, Rasa CPU ms per message)


async def drive_process_route(url: str, messages: int, senders: Iterator[str]) -> int:
    """Customers' conversations through the gateway's route; the number of answers."""
    ids = itertools.count(1)
    sent = 0

    async def customer(session: aiohttp.ClientSession) -> None:
        nonlocal sent
        while sent < messages:
            phone = next(senders)
            for text in CONVERSATION:
                if sent >= messages:
                    return
                sent += 1
                body = json.dumps(
                    {
                        "phone": phone,
                        "text": text,
                        "message_id": str(next(ids)),
                        "metadata": {"kind": "sms", "media": []},
                    }
                ).encode()
                headers = {
                    "Content-Type": "application/json",
                    **gateway_auth.sign(body, ENV["PLIVO_AUTH_TOKEN"]),
                }
                async with session.post(url + PROCESS_PATH, data=body, headers=headers) as answer:
                    if answer.status != 200:
                        raise RuntimeError(f"{answer.status}: {await answer.text()}")
                    await answer.read()

    connector = aiohttp.TCPConnector(limit=CUSTOMERS)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(customer(session) for _ in range(CUSTOMERS)))
    return sent


async def phase(url: str, rasa_pid: int, route: str, messages: int, prefix: int) -> Phase:
    cpu_before, started = cpu_seconds(rasa_pid), time.perf_counter()
    if route == "rest":
        result = await drive(url, CONVERSATION, CUSTOMERS, messages, sender_ids(prefix))
        answered = result.messages
    else:
        answered = await drive_process_route(url, messages, sender_ids(prefix))
    seconds = time.perf_counter() - started
    return answered / seconds, (cpu_seconds(rasa_pid) - cpu_before) * 1000 / max(answered, 1)


async def run(url: str, rasa_pid: int, messages: int, rounds: int) -> List[tuple]:
    await drive(url, CONVERSATION, CUSTOMERS, 80, sender_ids(60))  # warm-up, both routes
    await drive_process_route(url, 80, sender_ids(61))
    results = []
    for n in range(rounds):
        rest = await phase(url, rasa_pid, "rest", messages, 62 + 2 * n)
        sms = await phase(url, rasa_pid, "process", messages, 63 + 2 * n)
        results.append((rest, sms))
    return results


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.assistant_route")
    parser.add_argument("--messages", type=int, default=800)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="assistant-route-"))
    database_url = f"sqlite:///{work / 'bot.db'}"
    prepare_our_database(database_url)
    stack = start_stack(
        DEFAULT_MODEL,
        env={"DATABASE_URL": database_url, **ENV},
        log_dir=work,
        credentials=PROJECT_ROOT / "credentials.yml",
    )
    try:
        results = asyncio.run(
            run(stack.url, stack.processes["rasa"].pid, args.messages, args.rounds)
        )
    finally:
        stack.stop()
    print(
        f"Rasa server alone (SQLite), {CUSTOMERS} customers, {args.messages} messages per "
        "phase: REST channel vs the SMS gateway's route (/webhooks/plivo/process, signed)"
    )
    print(
        f"{'round':8}{'REST msg/s':>12}{'SMS msg/s':>12}{'ratio':>8}"
        f"{'Rasa ms/msg REST':>18}{'SMS':>8}{'ratio':>8}"
    )
    rate_ratios, cpu_ratios = [], []
    for n, ((rest_rate, rest_cpu), (sms_rate, sms_cpu)) in enumerate(results, 1):
        rate_ratios.append(sms_rate / rest_rate)
        cpu_ratios.append(sms_cpu / rest_cpu)
        print(
            f"{n:<8}{rest_rate:12.1f}{sms_rate:12.1f}{rate_ratios[-1]:8.2f}"
            f"{rest_cpu:18.2f}{sms_cpu:8.2f}{cpu_ratios[-1]:8.2f}"
        )
    print(
        f"{'median':8}{'':24}{statistics.median(rate_ratios):8.2f}"
        f"{'':26}{statistics.median(cpu_ratios):8.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
