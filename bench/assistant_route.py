"""The assistant's SMS route vs its REST route, driven the same way (a control experiment).

Usage:
    .venv/bin/python -m bench.assistant_route [--messages 800] [--rounds 4]

An SMS worker asks the Rasa server for each answer over `POST /webhooks/plivo/process`
(HMAC-signed with a nonce, with the text's metadata). This drives that route directly, like
a worker does but with nothing else running (no receiver, worker, stand-in), in rounds
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
from typing import Iterator, List, Optional, Sequence

import aiohttp

from bench.rasa_alone import (
    CONVERSATION,
    CUSTOMERS,
    ENV,
    Phase,
    print_rounds,
    start_rasa_alone,
    timed,
)
from bench.rest_throughput import drive, sender_ids
from bot.sms import gateway_auth
from bot.sms.rasa_asker import PROCESS_PATH


async def drive_process_route(url: str, messages: int, senders: Iterator[str]) -> int:
    """Customers' conversations through the workers' route; the number of answers."""
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
    async def load() -> int:
        if route == "rest":
            result = await drive(url, CONVERSATION, CUSTOMERS, messages, sender_ids(prefix))
            return result.messages
        return await drive_process_route(url, messages, sender_ids(prefix))

    return await timed(rasa_pid, load())


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
    stack = start_rasa_alone()
    try:
        results = asyncio.run(
            run(stack.url, stack.processes["rasa"].pid, args.messages, args.rounds)
        )
    finally:
        stack.stop()
    print_rounds(
        f"Rasa server alone (SQLite), {CUSTOMERS} customers, {args.messages} messages per "
        "phase: REST channel vs the SMS workers' route (/webhooks/plivo/process, signed)",
        "REST",
        "SMS",
        results,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
