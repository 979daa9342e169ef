"""The SMS path vs the REST channel on the same running bot and database, webhook acks
under a burst of new texters, and each process's memory, in one run.

Usage:
    .venv/bin/python -m bench.sms_throughput                      # embedded: SQLite, 1 worker
    .venv/bin/python -m bench.sms_throughput --topology scaled    # PostgreSQL, Redis, 2+2
    .venv/bin/python -m bench.sms_throughput --ack-seconds 0      # skip the ack burst
    .venv/bin/python -m bench.sms_throughput --json

Topologies (started through bot/launcher.py, the same commands as `make run` and
deploy/Procfile):
- embedded (`make run`): SQLite (a fresh file, the tracker store in its sibling file), one
  Rasa server, one SMS worker, in-memory locks;
- scaled (deploy/Procfile): a fresh PostgreSQL database for the bot and the trackers, the
  Redis lock store of deploy/endpoints.production.yml (AtomicRedisLockStore), two Rasa
  servers, two SMS workers asking both.
Both have the receiver, the action server and the Plivo stand-in (in this process). The
bench turns the REST channel on (credentials.yml) for its baseline; production has none.

1. SMS vs REST: `--concurrency` customers each run 4-message conversations, one message at
   a time, over (a) the REST channel (request until response; in the scaled topology the
   customers are spread over both Rasa servers) and (b) the SMS path: signed webhook ->
   receiver ack -> worker -> Rasa -> outbox -> plivo SDK -> stand-in (webhook sent until
   the stand-in records the reply). REST, SMS, REST ... (`--rounds` SMS rounds, each
   between two REST rounds): messages/s per round and SMS/REST per round and its median.
   CPU per process per 100 messages, how busy the Rasa servers were and how long they
   waited for a CPU tell where the time went.
2. Acks: `--ack-seconds` of `--ack-rate` new texters per second (open loop, as Plivo
   delivers them, whatever the bot is doing), posted from a process of their own; ack
   p50/p99/max and p99 against the 50 ms target, then the time until every reply was sent.
3. Memory: RSS (and peak) of each process after the load, the Rasa server against its
   900 MB budget.

The sending-number rate limit is lifted (SMS_RATE_PER_SECOND=10000) so the software is
measured, not the carrier's 1-100 msg/s.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import multiprocessing
import os
import platform
import statistics
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence
from urllib.parse import urlencode

import aiohttp

from bench.procstats import cpu_seconds, machine_busy_seconds, proc_stats, runqueue_wait_seconds
from bench.rest_throughput import LoadResult, drive, percentile, prepare_our_database, sender_ids
from bot.launcher import DEFAULT_MODEL, IN_MEMORY_LOCKS, free_port, start_stack
from bot.settings import PROJECT_ROOT
from devtools.plivo_standin.runner import StandIn
from devtools.plivo_standin.signing import sign_request
from devtools.plivo_standin.state import STATE

AUTH_ID = "MABENCHSTANDIN000000"
AUTH_TOKEN = "bench-token-not-a-secret"
BUSINESS = "+15005550100"
CONVERSATION = ["hi", "where is my order A1001", "is there wifi", "thanks"]
ACK_TARGET_MS = 50.0
RASA_RSS_BUDGET_MB = 900.0
POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
TOPOLOGIES = {
    # name: (database, Rasa servers, SMS workers)
    "embedded": ("SQLite", 1, 1),
    "scaled": ("PostgreSQL + Redis locks", 2, 2),
}


def atomic_redis_locks(prefix: str, host: str = "127.0.0.1", port: int = 6379) -> str:
    """deploy/endpoints.production.yml's lock store, as endpoints.yml lines."""
    return (
        "  type: bot.rasa_ext.lock_store.AtomicRedisLockStore\n"
        f"  url: {host}\n  port: {port}\n  db: 1\n  key_prefix: {prefix}"
    )


class ReplyWatch:
    """Futures resolved (thread-safely) when the stand-in records an outbound message."""

    def __init__(self, standin: StandIn, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.waiting: Dict[str, asyncio.Future] = {}
        self.lock = threading.Lock()
        store = standin.app[STATE].store
        original = store.add

        def add(*args: Any, **kwargs: Any) -> Any:
            message = original(*args, **kwargs)
            if message.direction == "outbound":
                with self.lock:
                    future = self.waiting.pop(message.to_number, None)
                if future is not None and not loop.is_closed():  # replies after the run
                    loop.call_soon_threadsafe(_resolve, future, message.text)
            return message

        store.add = add

    def expect(self, phone: str) -> asyncio.Future:
        future = self.loop.create_future()
        with self.lock:
            self.waiting[phone.lstrip("+")] = future
        return future


def _resolve(future: asyncio.Future, text: str) -> None:
    if not future.done():
        future.set_result(text)


def signed_body(webhook: str, phone: str, text: str, n: int) -> tuple:
    params = {
        "From": phone.lstrip("+"),
        "To": BUSINESS.lstrip("+"),
        "Text": text,
        "Type": "sms",
        "MessageUUID": f"bench-{phone}-{n}-{time.time_ns()}",
        "MessageIntent": "",
        "Units": "1",
        "TotalRate": "0.00000",
        "TotalAmount": "0.00000",
    }
    headers = sign_request(webhook, params, AUTH_TOKEN)
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    return urlencode(params).encode(), headers


async def sms_conversations(
    receiver_url: str, watch: ReplyWatch, concurrency: int, messages: int, prefix: int
) -> LoadResult:
    """Like bench.rest_throughput.drive, but each message is a signed SMS webhook."""
    result = LoadResult()
    webhook = f"{receiver_url}/webhooks/plivo/webhook"
    senders = sender_ids(prefix)
    queue: asyncio.Queue = asyncio.Queue()
    for _ in range(-(-messages // len(CONVERSATION))):
        queue.put_nowait(next(senders))

    async def customer(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            phone = queue.get_nowait()
            for n, text in enumerate(CONVERSATION):
                body, headers = signed_body(webhook, phone, text, n)
                reply = watch.expect(phone)
                started = time.perf_counter()
                async with session.post(webhook, data=body, headers=headers) as response:
                    await response.read()
                    if response.status != 200:
                        result.error(f"http_{response.status}")
                        continue
                try:
                    await asyncio.wait_for(reply, 30)
                except asyncio.TimeoutError:
                    result.error("no_reply")
                    continue
                result.messages += 1
                result.latencies_ms.append((time.perf_counter() - started) * 1000)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as s:
        started = time.perf_counter()
        await asyncio.gather(*(customer(s) for _ in range(concurrency)))
        result.seconds = time.perf_counter() - started
    return result


async def rest_conversations(
    rasa_urls: Sequence[str], concurrency: int, messages: int, prefix: int
) -> LoadResult:
    """The REST baseline: the customers spread evenly over the Rasa servers."""
    senders = sender_ids(prefix)
    count = len(rasa_urls)
    parts = await asyncio.gather(
        *(
            drive(
                url,
                CONVERSATION,
                max(1, concurrency // count),
                messages // count,
                senders,
            )
            for url in rasa_urls
        )
    )
    merged = _merge(parts)
    merged.seconds = max(part.seconds for part in parts)  # they ran at the same time
    return merged


async def post_burst(webhook: str, phones: List[str], rate: float) -> tuple:
    """Post one "hi" webhook per phone, `rate` per second whatever the answers take;
    (ack latencies in ms, {error kind: count}, seconds)."""
    acks: List[float] = []
    errors: Dict[str, int] = {}

    async def post(session: aiohttp.ClientSession, phone: str) -> None:
        body, headers = signed_body(webhook, phone, "hi", 0)
        started = time.perf_counter()
        kind = None
        try:
            async with session.post(webhook, data=body, headers=headers) as response:
                await response.read()
                kind = None if response.status == 200 else f"http_{response.status}"
        except aiohttp.ClientError as error:  # Plivo retries a webhook that failed
            kind = type(error).__name__
        acks.append((time.perf_counter() - started) * 1000)
        if kind:
            errors[kind] = errors.get(kind, 0) + 1

    started = time.perf_counter()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        posts = []
        for n, phone in enumerate(phones):
            await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
            posts.append(asyncio.create_task(post(session, phone)))
        await asyncio.gather(*posts)
    return acks, errors, time.perf_counter() - started


def post_burst_process(webhook: str, phones: List[str], rate: float) -> tuple:
    return asyncio.run(post_burst(webhook, phones, rate))


async def ack_burst(
    receiver_url: str,
    watch: ReplyWatch,
    meter: "CpuMeter",
    poster: ProcessPoolExecutor,
    seconds: float,
    rate: float,
    drain_seconds: float,
) -> Dict[str, Any]:
    """New texters arriving at `rate` per second for `seconds`: how fast is each webhook
    acknowledged, and how many were answered within `drain_seconds` after the last? Posted
    from a process of its own, so the stand-in's work in this process does not delay the
    client's clock."""
    webhook = f"{receiver_url}/webhooks/plivo/webhook"
    count = int(seconds * rate)
    phones = [f"+1556{i:07d}" for i in range(count)]
    replies = [watch.expect(p) for p in phones]

    async def burst() -> tuple:
        return await asyncio.wrap_future(poster.submit(post_burst_process, webhook, phones, rate))

    started = time.perf_counter()
    acks, errors, acked = await meter.measure(burst())
    taken = meter.take()
    done, _ = await asyncio.wait(replies, timeout=acked + drain_seconds)
    p99 = percentile(acks, 99)
    return {
        "webhooks": count,
        "rate": rate,
        "errors": errors,
        "ack_p50_ms": percentile(acks, 50),
        "ack_p99_ms": p99,
        "ack_max_ms": max(acks),
        "ack_p99_vs_target": p99 / ACK_TARGET_MS,
        "posted_in_s": acked,
        "replied": len(done),
        "all_replied_in_s": time.perf_counter() - started,
        "drain_seconds": drain_seconds,
        "cpus_used": {role: c / acked for role, c in taken["cpu"].items()},
        "other_jobs_cpus": others(taken["cpu"]) / acked,
        "waited_for_cpu_s": taken["waited"],
    }


def summary(result: LoadResult, taken: Dict[str, Dict[str, float]]) -> Dict[str, Any]:
    cpu, waited = taken["cpu"], taken["waited"]
    per_100 = 100.0 / max(result.messages, 1)
    seconds = result.seconds or float("nan")
    rasa = [role for role in waited if role.startswith("rasa")]
    return {
        "messages": result.messages,
        "seconds": round(result.seconds, 2),
        "msgs_per_s": result.messages / seconds,
        "p50_ms": percentile(result.latencies_ms, 50),
        "p99_ms": percentile(result.latencies_ms, 99),
        "errors": result.errors,
        "cpu_s_per_100_msgs": {role: round(c * per_100, 2) for role, c in cpu.items()},
        "waited_for_cpu_ms_per_msg": {
            role: w * 1000 / max(result.messages, 1) for role, w in waited.items()
        },
        "machine_cpus_busy": cpu[MACHINE] / seconds,
        "other_jobs_cpus": others(cpu) / seconds,
        "rasa_busy": sum(cpu[role] for role in rasa) / seconds / max(len(rasa), 1),
    }


MACHINE = "whole machine"  # every process and the kernel: the database server, Redis...
BENCH = "bench+stand-in"


def others(cpu: Dict[str, float]) -> float:
    """CPU seconds of everything but the stack and the bench: PostgreSQL and Redis (scaled),
    the kernel, and other jobs on the machine."""
    return max(0.0, cpu[MACHINE] - sum(c for role, c in cpu.items() if role != MACHINE))


def _cpu(role: str, pid: int) -> float:
    return machine_busy_seconds() if role == MACHINE else cpu_seconds(pid)


class CpuMeter:
    """CPU seconds each process (and this one: client + stand-in) used in a phase, the
    whole machine's busy CPU seconds, and each process's time runnable but waiting for a
    CPU (run-queue time: how much the others held it back)."""

    def __init__(self, pids: Dict[str, int]) -> None:
        self.pids = {**pids, BENCH: os.getpid(), MACHINE: 0}
        self.total: Dict[str, float] = {role: 0.0 for role in self.pids}
        self.waited: Dict[str, float] = {role: 0.0 for role in pids}

    def _waits(self) -> Dict[str, float]:
        return {role: runqueue_wait_seconds(self.pids[role]) for role in self.waited}

    async def measure(self, load: Any) -> Any:
        before = {role: _cpu(role, pid) for role, pid in self.pids.items()}
        waits = self._waits()
        result = await load
        for role, pid in self.pids.items():
            self.total[role] += _cpu(role, pid) - before[role]
        for role, seconds in self._waits().items():
            self.waited[role] += seconds - waits[role]
        return result

    def take(self) -> Dict[str, Dict[str, float]]:
        """{"cpu": seconds per role, "waited": seconds per role} since the last take."""
        taken = {"cpu": self.total, "waited": self.waited}
        self.total = {role: 0.0 for role in self.total}
        self.waited = {role: 0.0 for role in self.waited}
        return taken


def _merge(results: List[LoadResult]) -> LoadResult:
    merged = LoadResult()
    for result in results:
        merged.messages += result.messages
        merged.seconds += result.seconds
        merged.latencies_ms += result.latencies_ms
        for kind, count in result.errors.items():
            merged.errors[kind] = merged.errors.get(kind, 0) + count
    return merged


def _rate(result: LoadResult) -> float:
    return result.messages / result.seconds if result.seconds else 0.0


def _add(into: Dict[str, Dict[str, float]], taken: Dict[str, Dict[str, float]]) -> None:
    for kind, values in taken.items():
        for role, seconds in values.items():
            into.setdefault(kind, {})
            into[kind][role] = into[kind].get(role, 0.0) + seconds


async def compare(
    args: argparse.Namespace,
    rasa_urls: Sequence[str],
    receiver_url: str,
    watch: ReplyWatch,
    meter: CpuMeter,
    prefixes: Iterator[int],
) -> Dict[str, Any]:
    """REST, SMS, REST, SMS ... REST: each SMS round between two REST rounds, so a round's
    ratio compares phases seconds apart (the shared machine's neighbours come and go)."""
    rest_rounds: List[LoadResult] = []
    sms_rounds: List[LoadResult] = []
    rest_cpu: Dict[str, Dict[str, float]] = {}
    sms_cpu: Dict[str, Dict[str, float]] = {}

    async def rest_round() -> None:
        load = rest_conversations(rasa_urls, args.concurrency, args.messages, next(prefixes))
        rest_rounds.append(await meter.measure(load))
        _add(rest_cpu, meter.take())

    await rest_round()
    for _ in range(args.rounds):
        load = sms_conversations(
            receiver_url, watch, args.concurrency, args.messages, next(prefixes)
        )
        sms_rounds.append(await meter.measure(load))
        await asyncio.sleep(0.5)  # the last delivery reports
        _add(sms_cpu, meter.take())
        await rest_round()
    ratios = [
        _rate(sms) / ((_rate(rest_rounds[n]) + _rate(rest_rounds[n + 1])) / 2)
        for n, sms in enumerate(sms_rounds)
    ]
    return {
        "rest": summary(_merge(rest_rounds), rest_cpu),
        "sms": summary(_merge(sms_rounds), sms_cpu),
        "rest_rounds_msgs_per_s": [_rate(r) for r in rest_rounds],
        "sms_rounds_msgs_per_s": [_rate(r) for r in sms_rounds],
        "round_ratios": ratios,
        "median_ratio": statistics.median(ratios),
    }


async def run(
    args: argparse.Namespace,
    rasa_urls: Sequence[str],
    receiver_url: str,
    standin: StandIn,
    pids: Dict[str, int],
    poster: ProcessPoolExecutor,
) -> Dict[str, Any]:
    """Warm-up, the SMS/REST comparison, then the ack burst."""
    watch = ReplyWatch(standin, asyncio.get_running_loop())
    meter = CpuMeter(pids)
    await sms_conversations(receiver_url, watch, args.concurrency, 40, prefix=90)  # warm-up
    await rest_conversations(rasa_urls, args.concurrency, 40, prefix=91)
    meter.take()
    results: Dict[str, Any] = {}
    if args.rounds:
        results["compare"] = await compare(
            args, rasa_urls, receiver_url, watch, meter, itertools.count(10)
        )
    if args.ack_seconds:
        results["ack_burst"] = await ack_burst(
            receiver_url, watch, meter, poster, args.ack_seconds, args.ack_rate, args.drain
        )
    return results


def compare_table(level: Dict[str, Any], concurrency: int) -> List[str]:
    rest, sms = level["rest"], level["sms"]
    rows = [
        ("messages/s", rest["msgs_per_s"], sms["msgs_per_s"]),
        ("p50 latency ms", rest["p50_ms"], sms["p50_ms"]),
        ("p99 latency ms", rest["p99_ms"], sms["p99_ms"]),
    ]
    lines = [
        f"SMS path vs REST channel, {concurrency} customers texting at once:",
        f"{'':26}{'REST':>10}{'SMS':>10}{'SMS/REST':>10}",
    ]
    for name, a, b in rows:
        lines.append(f"{name:26}{a:10.1f}{b:10.1f}{(b / a if a else float('nan')):10.2f}")
    for role in sms["cpu_s_per_100_msgs"]:
        a, b = rest["cpu_s_per_100_msgs"][role], sms["cpu_s_per_100_msgs"][role]
        lines.append(
            f"{'CPU s/100 ' + role:26}{a:10.2f}{b:10.2f}{(b / a if a else float('nan')):10.2f}"
        )
    return lines + [
        f"{'CPUs busy (of ' + str(os.cpu_count()) + ')':26}{rest['machine_cpus_busy']:10.2f}"
        f"{sms['machine_cpus_busy']:10.2f}",
        f"{'... not stack or bench':26}{rest['other_jobs_cpus']:10.2f}"
        f"{sms['other_jobs_cpus']:10.2f}",
        f"{'Rasa server(s) busy':26}{rest['rasa_busy']:10.0%}{sms['rasa_busy']:10.0%}",
        *(
            f"{'CPU wait ms/msg ' + role:26}{rest['waited_for_cpu_ms_per_msg'][role]:10.1f}"
            f"{w:10.1f}"
            for role, w in sms["waited_for_cpu_ms_per_msg"].items()
        ),
        "REST msg/s per round: "
        + ", ".join(f"{r:.1f}" for r in level["rest_rounds_msgs_per_s"])
        + "; SMS: "
        + ", ".join(f"{r:.1f}" for r in level["sms_rounds_msgs_per_s"]),
        "SMS/REST per round (each SMS round against the REST rounds on both sides): "
        + ", ".join(f"{r:.2f}" for r in level["round_ratios"])
        + f"; median {level['median_ratio']:.2f}",
        f"errors: REST {rest['errors'] or 'none'}, SMS {sms['errors'] or 'none'}",
        "",
    ]


def burst_table(burst: Dict[str, Any]) -> List[str]:
    busy = ", ".join(f"{role} {c:.2f}" for role, c in burst["cpus_used"].items())
    waited = ", ".join(f"{role} {w:.1f}" for role, w in burst["waited_for_cpu_s"].items())
    return [
        f"Webhook acks, {burst['webhooks']} new texters arriving at {burst['rate']:.0f}/s "
        f"for {burst['webhooks'] / burst['rate']:.0f} s:",
        f"  ack p50 {burst['ack_p50_ms']:.1f} ms, p99 {burst['ack_p99_ms']:.1f} ms, "
        f"max {burst['ack_max_ms']:.1f} ms; p99 / {ACK_TARGET_MS:.0f} ms target = "
        f"{burst['ack_p99_vs_target']:.2f}; errors {burst['errors'] or 'none'}",
        f"  {burst['replied']}/{burst['webhooks']} answered within "
        f"{burst['drain_seconds']:.0f} s after the last was posted",
        f"  CPUs used during the burst: {busy}; not stack or bench {burst['other_jobs_cpus']:.2f}",
        f"  seconds waiting for a CPU during the burst: {waited}",
        "",
    ]


def memory_table(memory: Dict[str, Dict[str, float]]) -> List[str]:
    lines = ["Memory after the load (MB):", f"{'process':14}{'RSS':>8}{'peak':>8}"]
    for role, stats in memory.items():
        lines.append(f"{role:14}{stats['rss_mb']:8.0f}{stats['peak_mb']:8.0f}")
    total = sum(stats["rss_mb"] for stats in memory.values())
    rasa = max(stats["rss_mb"] for role, stats in memory.items() if role.startswith("rasa"))
    return lines + [
        f"{'total':14}{total:8.0f}",
        f"Rasa server RSS / {RASA_RSS_BUDGET_MB:.0f} MB budget = {rasa / RASA_RSS_BUDGET_MB:.2f}",
    ]


def table(results: Dict[str, Any], meta: Dict[str, Any]) -> str:
    lines = [
        f"{meta['topology']} topology: {meta['database']}, {meta['rasa_servers']} Rasa "
        f"server(s), {meta['workers']} SMS worker(s); {meta['machine']}; {meta['date']}",
        "",
    ]
    if "compare" in results:
        lines += compare_table(results["compare"], meta["concurrency"])
    if "ack_burst" in results:
        lines += burst_table(results["ack_burst"])
    return "\n".join(lines + memory_table(results["memory"]))


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topology", choices=sorted(TOPOLOGIES), default="embedded")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=16,
        help="customers texting at once, each waiting for their reply before the next text",
    )
    parser.add_argument("--messages", type=int, default=300, help="per round and channel")
    parser.add_argument(
        "--rounds",
        type=int,
        choices=range(0, 10),
        default=3,
        help="SMS rounds, each between two REST rounds (0: no comparison)",
    )
    parser.add_argument(
        "--ack-seconds", type=float, default=30.0, help="length of the ack burst (0: none)"
    )
    parser.add_argument("--ack-rate", type=float, default=100.0, help="new texters per second")
    parser.add_argument(
        "--drain",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="how long to wait after the burst for the replies (counted, not timed)",
    )
    parser.add_argument(
        "--postgres-admin",
        default=POSTGRES_ADMIN_URL,
        metavar="URL",
        help="scaled: where to create (and drop) the bench's database",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.concurrency < 1 or args.ack_rate <= 0:
        parser.error("--concurrency and --ack-rate must be positive")
    return args


def fresh_postgres(admin_url: str) -> tuple:
    """(url of a new database, function that drops it)."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"sms_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(admin_url).set(database=name).render_as_string(False), drop


def memory(pids: Dict[str, int]) -> Dict[str, Dict[str, float]]:
    stats = {role: proc_stats(pid) for role, pid in pids.items()}
    return {role: {"rss_mb": s.rss_mb, "peak_mb": s.hwm_mb} for role, s in stats.items()}


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    database, rasa_servers, workers = TOPOLOGIES[args.topology]
    work = Path(tempfile.mkdtemp(prefix="sms-bench-"))
    database_url, drop, locks = f"sqlite:///{work / 'bot.db'}", None, IN_MEMORY_LOCKS
    if args.topology == "scaled":
        database_url, drop = fresh_postgres(args.postgres_admin)
        locks = atomic_redis_locks(prefix=work.name.replace("-", "").replace("_", ""))
    prepare_our_database(database_url)
    rasa_port = free_port()
    receiver_port = free_port()
    receiver_url = f"http://127.0.0.1:{receiver_port}"
    standin = StandIn(
        AUTH_ID,
        AUTH_TOKEN,
        BUSINESS,
        f"{receiver_url}/webhooks/plivo/webhook",
        status_delays=(0.01, 0.01),
    ).start()
    env = {
        "DATABASE_URL": database_url,
        "PLIVO_AUTH_ID": AUTH_ID,
        "PLIVO_AUTH_TOKEN": AUTH_TOKEN,
        "PLIVO_NUMBER": BUSINESS,
        "PLIVO_API_URL": standin.url,
        "BOT_PUBLIC_URL": receiver_url,
        "SMS_RATE_PER_SECOND": "10000",
        "BUSINESS_HOURS": "00:00-24:00",
        "BUSINESS_DAYS": "mon,tue,wed,thu,fri,sat,sun",
    }
    poster = None
    try:
        stack = start_stack(
            DEFAULT_MODEL,
            env=env,
            rasa_port=rasa_port,
            log_dir=work,
            credentials=PROJECT_ROOT / "credentials.yml",
            lock_store=locks,
            receiver_port=receiver_port,
            workers=workers,
            rasa_servers=rasa_servers,
        )
        try:
            pids = {role: proc.pid for role, proc in stack.processes.items()}
            poster = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn")
            )
            poster.submit(os.getpid).result()  # started before the load
            results = asyncio.run(run(args, stack.rasa_urls, receiver_url, standin, pids, poster))
            results["memory"] = memory(pids)
        finally:
            if poster is not None:
                poster.shutdown()
            stack.stop()
    finally:
        standin.stop()
        if drop:
            drop()
    meta = {
        "topology": args.topology,
        "database": database,
        "rasa_servers": rasa_servers,
        "workers": workers,
        "concurrency": args.concurrency,
        "messages": args.messages,
        "rounds": args.rounds,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "logs": str(work),
    }
    print(json.dumps({"meta": meta, **results}, indent=2) if args.json else table(results, meta))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
