"""The SMS receiver alone: CPU per webhook and ack latency at fixed offered rates.

    python -m bench.receiver_cost [--rates 100 300] [--seconds 10] [--json]

Starts bot/sms/receiver.py by itself on a fresh SQLite database (the embedded default),
posts signed "hi" webhooks from new phones at each rate from a process of its own (signed
beforehand, so the client's clock is not held up by signing), and reads the receiver's
CPU time from /proc before and after. Prints, per rate: CPU ms per webhook, webhooks
answered per second, ack p50/p99/max and errors. The machine's load average is printed too:
on a shared machine the latencies depend on it, the CPU per webhook much less.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import subprocess
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple
from urllib.parse import urlencode

import aiohttp

from bench.procstats import cpu_seconds
from bench.rest_throughput import percentile, prepare_our_database
from bot.launcher import child_env, free_port, receiver_command, wait_http
from bot.settings import PROJECT_ROOT
from devtools.plivo_standin.signing import sign_request

AUTH_ID = "MABENCHRECEIVER00000"
AUTH_TOKEN = "bench-token-not-a-secret"
BUSINESS = "+15005550100"


def signed_posts(webhook: str, count: int, prefix: str) -> List[Tuple[bytes, Dict[str, str]]]:
    """`count` signed inbound-text webhooks, each from a new phone."""
    posts = []
    for i in range(count):
        params = {
            "From": f"1557{prefix}{i:06d}",
            "To": BUSINESS.lstrip("+"),
            "Text": "hi",
            "Type": "sms",
            "MessageUUID": f"cost-{prefix}-{i}-{time.time_ns()}",
            "MessageIntent": "",
            "Units": "1",
            "TotalRate": "0.00000",
            "TotalAmount": "0.00000",
        }
        headers = sign_request(webhook, params, AUTH_TOKEN)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        posts.append((urlencode(params).encode(), headers))
    return posts


async def _post_all(webhook: str, posts: list, rate: float) -> Tuple[List[float], Dict[str, int]]:
    acks: List[float] = []
    errors: Dict[str, int] = {}

    async def post(session: aiohttp.ClientSession, body: bytes, headers: dict) -> None:
        started = time.perf_counter()
        kind = None
        try:
            async with session.post(webhook, data=body, headers=headers) as response:
                await response.read()
                kind = None if response.status == 200 else f"http_{response.status}"
        except aiohttp.ClientError as error:
            kind = type(error).__name__
        acks.append((time.perf_counter() - started) * 1000)
        if kind:
            errors[kind] = errors.get(kind, 0) + 1

    started = time.perf_counter()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        tasks = []
        for n, (body, headers) in enumerate(posts):
            await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
            tasks.append(asyncio.create_task(post(session, body, headers)))
        await asyncio.gather(*tasks)
    return acks, errors


def post_at_rate(webhook: str, count: int, rate: float, prefix: str) -> tuple:
    """In the poster process: sign, then post at `rate`; (acks ms, errors, seconds)."""
    posts = signed_posts(webhook, count, prefix)
    started = time.perf_counter()
    acks, errors = asyncio.run(_post_all(webhook, posts, rate))
    return acks, errors, time.perf_counter() - started


def measure(
    pid: int, poster: ProcessPoolExecutor, webhook: str, rate: float, seconds: float, prefix: str
) -> Dict[str, Any]:
    count = int(rate * seconds)
    future = poster.submit(post_at_rate, webhook, count, rate, prefix)
    # Read while the poster signs: the receiver is idle until the first post.
    cpu_before = cpu_seconds(pid)
    acks, errors, took = future.result()
    cpu_used = cpu_seconds(pid) - cpu_before
    return {
        "rate": rate,
        "webhooks": count,
        "cpu_ms_per_webhook": cpu_used * 1000 / count,
        "answered_per_s": (count - sum(errors.values())) / took,
        "ack_p50_ms": percentile(acks, 50),
        "ack_p99_ms": percentile(acks, 99),
        "ack_max_ms": max(acks),
        "errors": errors,
    }


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=float, nargs="+", default=[100.0, 300.0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per rate")
    parser.add_argument("--json", action="store_true")
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="receiver-cost-"))
    url = f"sqlite:///{work / 'bot.db'}"
    prepare_our_database(url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        "DATABASE_URL": url,
        "PLIVO_AUTH_ID": AUTH_ID,
        "PLIVO_AUTH_TOKEN": AUTH_TOKEN,
        "PLIVO_NUMBER": BUSINESS,
        "BOT_PUBLIC_URL": base,
    }
    log = (work / "receiver.log").open("w")
    proc = subprocess.Popen(
        receiver_command(port), cwd=PROJECT_ROOT, env=child_env(env), stdout=log, stderr=log
    )
    results = []
    try:
        wait_http(f"{base}/webhooks/plivo/", proc=proc)
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as poster:
            webhook = f"{base}/webhooks/plivo/webhook"
            measure(proc.pid, poster, webhook, 50, 2, "9")  # warm-up: pools, first inserts
            for n, rate in enumerate(args.rates):
                results.append(measure(proc.pid, poster, webhook, rate, args.seconds, str(n)))
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()
    load = os.getloadavg()
    report = {"load_average": load, "cores": os.cpu_count(), "logs": str(work), "runs": results}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    print(
        "| offered/s | webhooks | CPU ms/webhook | answered/s | ack p50 | ack p99 | max | errors |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in results:
        print(
            f"| {r['rate']:.0f} | {r['webhooks']} | {r['cpu_ms_per_webhook']:.2f} "
            f"| {r['answered_per_s']:.0f} | {r['ack_p50_ms']:.1f} ms | {r['ack_p99_ms']:.1f} ms "
            f"| {r['ack_max_ms']:.0f} ms | {r['errors'] or '-'} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
