"""The SMS path vs the bare REST channel, on the same running bot, in one run.

Usage:
    .venv/bin/python -m bench.sms_throughput                   # 8 customers, 400 messages
    .venv/bin/python -m bench.sms_throughput --messages 800 --burst 400 --rounds 3
    .venv/bin/python -m bench.sms_throughput --concurrency 8,16,24 --rounds 3 [--postgres]

Measures, against one Rasa server + action server (SQLite, fresh database; `--postgres`:
PostgreSQL + Redis locks), the SMS receiver and `--workers` workers in front of it (the
topology of `make run`: one worker) and the Plivo stand-in running in this process:
1. End to end: `--concurrency` customers each run 4-message conversations, one message at
   a time, over (a) the REST channel (latency = request until response) and (b) the SMS
   path: signed webhook -> ack -> background processing -> outbox -> real plivo SDK ->
   stand-in (latency = webhook sent until the reply is recorded by the stand-in, observed
   in-process without polling). REST, SMS, REST ... (`--rounds` SMS rounds, each between
   two REST rounds): messages/s, p50/p99, CPU per process, how busy the Rasa server was,
   the ratio per round and its median; for each `--concurrency` level in turn. With few
   customers the assistant idles while their texts are elsewhere on the SMS path (the
   ratio is latency-bound); with more, it always has a text waiting and the ratio compares
   capacities.
2. Webhook ack latency, posted from a process of its own: `--burst` new texters arriving
   at `--burst-rate` per second (open loop), then as many from 32 senders posting as fast
   as they are answered (closed loop); p50/p99 of the ack, and the time until every
   reply reached the stand-in.
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

from bench.procstats import cpu_seconds, machine_busy_seconds, runqueue_wait_seconds
from bench.rest_throughput import LoadResult, drive, percentile, prepare_our_database, sender_ids
from bot.launcher import (
    DEFAULT_MODEL,
    IN_MEMORY_LOCKS,
    free_port,
    redis_locks,
    start_stack,
)
from bot.settings import PROJECT_ROOT
from devtools.plivo_standin.runner import StandIn
from devtools.plivo_standin.signing import sign_request
from devtools.plivo_standin.state import STATE

AUTH_ID = "MABENCHSTANDIN000000"
AUTH_TOKEN = "bench-token-not-a-secret"
BUSINESS = "+15005550100"
CONVERSATION = ["hi", "where is my order A1001", "is there wifi", "thanks"]


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
                if future is not None:
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
    bot_url: str, watch: ReplyWatch, concurrency: int, messages: int, prefix: int
) -> LoadResult:
    """Like bench.rest_throughput.drive, but each message is a signed SMS webhook."""
    result = LoadResult()
    webhook = f"{bot_url}/webhooks/plivo/webhook"
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


async def post_burst(webhook: str, phones: List[str], rate: float, senders: int) -> tuple:
    """Post one "hi" webhook per phone; (ack latencies in ms, errors, seconds)."""
    acks: List[float] = []
    errors = 0
    queue: asyncio.Queue = asyncio.Queue()
    for phone in phones:
        queue.put_nowait(phone)

    async def post(session: aiohttp.ClientSession, phone: str) -> None:
        nonlocal errors
        body, headers = signed_body(webhook, phone, "hi", 0)
        started = time.perf_counter()
        async with session.post(webhook, data=body, headers=headers) as response:
            await response.read()
            acks.append((time.perf_counter() - started) * 1000)
            errors += response.status != 200

    async def sender(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            await post(session, queue.get_nowait())

    started = time.perf_counter()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as s:
        if rate > 0:
            posts = []
            for n, phone in enumerate(phones):
                await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
                posts.append(asyncio.create_task(post(s, phone)))
            await asyncio.gather(*posts)
        else:
            await asyncio.gather(*(sender(s) for _ in range(senders)))
    return acks, errors, time.perf_counter() - started


def post_burst_process(webhook: str, phones: List[str], rate: float, senders: int) -> tuple:
    return asyncio.run(post_burst(webhook, phones, rate, senders))


async def ack_burst(
    bot_url: str,
    watch: ReplyWatch,
    poster: ProcessPoolExecutor,
    count: int,
    rate: float,
    prefix: str,
    senders: int = 32,
) -> Dict:
    """Many new texters: how fast is each webhook acknowledged, and how fast drained?

    rate > 0: texts arrive at that many per second (open loop, as Plivo delivers them,
    whatever the bot is doing); rate 0: 32 senders post as fast as they are answered
    (closed loop: the acknowledgement throughput, latency = senders / throughput).
    The webhooks are posted from a process of their own (`poster`, started before this
    one lowers its priority), so neither the stand-in's work in this process nor
    `--outside-nice` delays the client's clock.
    """
    webhook = f"{bot_url}/webhooks/plivo/webhook"
    phones = [f"+1555{prefix}{i:04d}" for i in range(count)]
    replies = [watch.expect(p) for p in phones]
    started = time.perf_counter()
    acks, errors, acked = await asyncio.wrap_future(
        poster.submit(post_burst_process, webhook, phones, rate, senders)
    )
    done, pending = await asyncio.wait(replies, timeout=120)
    drained = time.perf_counter() - started
    return {
        "webhooks": count,
        "rate": rate,
        "errors": errors,
        "ack_p50_ms": percentile(acks, 50),
        "ack_p99_ms": percentile(acks, 99),
        "ack_max_ms": max(acks),
        "acked_in_s": acked,
        "replied": len(done),
        "all_replied_in_s": drained,
    }


def summary(result: LoadResult, cpu: Dict[str, float]) -> Dict[str, Any]:
    per_100 = 100.0 / max(result.messages, 1)
    return {
        "messages": result.messages,
        "seconds": round(result.seconds, 2),
        "msgs_per_s": result.messages / result.seconds if result.seconds else 0.0,
        "p50_ms": percentile(result.latencies_ms, 50),
        "p99_ms": percentile(result.latencies_ms, 99),
        "errors": result.errors,
        "cpu_s_per_100_msgs": {role: round(c * per_100, 2) for role, c in cpu.items()},
        "machine_cpus_busy": cpu[MACHINE] / result.seconds if result.seconds else 0.0,
        "rasa_busy": cpu.get("rasa", 0.0) / result.seconds if result.seconds else 0.0,
    }


RASA_WAITED = "rasa waiting for a CPU"  # run-queue time: how much the others held it back
MACHINE = "whole machine"  # every process and the kernel: the database server, Redis...


def _cpu(role: str, pid: int) -> float:
    return machine_busy_seconds() if role == MACHINE else cpu_seconds(pid)


class CpuMeter:
    """CPU seconds each process (and this one: client + stand-in) used in a phase, and
    the whole machine's busy CPU seconds."""

    def __init__(self, pids: Dict[str, int]) -> None:
        self.pids = {**pids, "bench+stand-in": os.getpid(), MACHINE: 0}
        self.total: Dict[str, float] = {role: 0.0 for role in self.pids}
        self.rasa_pid = pids.get("rasa")
        self.rasa_waited = 0.0

    async def measure(self, load: Any) -> Any:
        before = {role: _cpu(role, pid) for role, pid in self.pids.items()}
        waited = runqueue_wait_seconds(self.rasa_pid) if self.rasa_pid else 0.0
        result = await load
        for role, pid in self.pids.items():
            self.total[role] += _cpu(role, pid) - before[role]
        if self.rasa_pid:
            self.rasa_waited += runqueue_wait_seconds(self.rasa_pid) - waited
        return result

    def take(self) -> Dict[str, float]:
        total, self.total = self.total, {role: 0.0 for role in self.pids}
        total[RASA_WAITED], self.rasa_waited = self.rasa_waited, 0.0
        return total


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


async def compare(
    args: argparse.Namespace,
    concurrency: int,
    bot_url: str,
    front_url: str,
    watch: ReplyWatch,
    meter: CpuMeter,
    prefixes: Iterator[int],
) -> Dict[str, Any]:
    """REST, SMS, REST, SMS ... REST with `concurrency` customers: each SMS round between
    two REST rounds, so a round's ratio compares phases a few seconds apart (the VM's
    neighbours come and go)."""
    rest_rounds: List[LoadResult] = []
    sms_rounds: List[LoadResult] = []
    rest_cpu: Dict[str, float] = {}
    sms_cpu: Dict[str, float] = {}

    async def rest_round() -> None:
        load = drive(bot_url, CONVERSATION, concurrency, args.messages, sender_ids(next(prefixes)))
        rest_rounds.append(await meter.measure(load))
        for role, cpu in meter.take().items():
            rest_cpu[role] = rest_cpu.get(role, 0.0) + cpu

    await rest_round()
    for _ in range(args.rounds):
        load = sms_conversations(front_url, watch, concurrency, args.messages, next(prefixes))
        sms_rounds.append(await meter.measure(load))
        await asyncio.sleep(0.5)  # the last delivery reports
        for role, cpu in meter.take().items():
            sms_cpu[role] = sms_cpu.get(role, 0.0) + cpu
        await rest_round()
    ratios = [
        _rate(sms) / ((_rate(rest_rounds[n]) + _rate(rest_rounds[n + 1])) / 2)
        for n, sms in enumerate(sms_rounds)
    ]
    return {
        "concurrency": concurrency,
        "rest": summary(_merge(rest_rounds), rest_cpu),
        "sms": summary(_merge(sms_rounds), sms_cpu),
        "round_ratios": ratios,
        "median_ratio": statistics.median(ratios),
    }


async def run(
    args: argparse.Namespace,
    bot_url: str,
    front_url: str,
    standin: StandIn,
    pids: Dict[str, int],
    poster: ProcessPoolExecutor,
) -> Dict[str, Any]:
    """The comparison at each `--concurrency` level, then the webhook ack bursts."""
    watch = ReplyWatch(standin, asyncio.get_running_loop())
    meter = CpuMeter(pids)
    await sms_conversations(front_url, watch, args.concurrency[0], 40, prefix=90)  # warm-up
    await drive(bot_url, CONVERSATION, args.concurrency[0], 40, sender_ids(91))
    prefixes = itertools.count(10)  # 2-digit sender prefixes, none used above
    levels = [
        await compare(args, level, bot_url, front_url, watch, meter, prefixes)
        for level in args.concurrency
    ]
    burst = await ack_burst(front_url, watch, poster, args.burst, args.burst_rate, "990")
    flood = await ack_burst(front_url, watch, poster, args.burst, 0, "991")
    return {"levels": levels, "ack_burst": burst, "ack_flood": flood}


def level_table(level: Dict[str, Any]) -> List[str]:
    rest, sms = level["rest"], level["sms"]
    rows = [
        ("messages/s", rest["msgs_per_s"], sms["msgs_per_s"]),
        ("p50 latency ms", rest["p50_ms"], sms["p50_ms"]),
        ("p99 latency ms", rest["p99_ms"], sms["p99_ms"]),
    ]
    lines = [
        f"{level['concurrency']} concurrent customers:",
        f"{'':18}{'REST':>12}{'SMS':>12}{'SMS/REST':>10}",
    ]
    for name, a, b in rows:
        lines.append(f"{name:18}{a:12.1f}{b:12.1f}{(b / a if a else float('nan')):10.2f}")
    for role in sms["cpu_s_per_100_msgs"]:
        a, b = rest["cpu_s_per_100_msgs"][role], sms["cpu_s_per_100_msgs"][role]
        lines.append(
            f"{'CPU s/100 ' + role:18}{a:12.2f}{b:12.2f}{(b / a if a else float('nan')):10.2f}"
        )
    return lines + [
        "SMS/REST per round (each SMS round against the REST rounds on both sides): "
        + ", ".join(f"{r:.2f}" for r in level["round_ratios"])
        + f"; median {level['median_ratio']:.2f}",
        f"{'CPUs busy (of ' + str(os.cpu_count()) + ')':18}{rest['machine_cpus_busy']:12.2f}"
        f"{sms['machine_cpus_busy']:12.2f}",
        f"{'Rasa server busy':18}{rest['rasa_busy']:12.0%}{sms['rasa_busy']:12.0%}",
        f"errors: REST {rest['errors'] or 'none'}, SMS {sms['errors'] or 'none'}",
        "",
    ]


def table(results: Dict[str, Any], meta: Dict[str, Any]) -> str:
    lines = [
        f"SMS path ({meta['workers']} worker(s)) vs REST channel, same bot "
        f"({meta['database']}"
        f"{''.join(f'; {r} nice {n:+d}' for r, n in meta['nice'].items())}"
        f"{''.join(f'; {r} SCHED_RR' for r in meta['realtime'])}"
        f"{''.join(f'; {r} SCHED_IDLE' for r in meta['idle'])}), "
        f"{meta['messages']} messages per round, {meta['rounds']} SMS round(s) between "
        f"REST rounds",
        "",
    ]
    for level in results["levels"]:
        lines += level_table(level)
    if len(results["levels"]) > 1:
        lines += [
            "median SMS/REST by concurrent customers: "
            + ", ".join(f"{v['concurrency']}: {v['median_ratio']:.2f}" for v in results["levels"]),
            "",
        ]
    for burst, how in (
        (results["ack_burst"], f"arriving at {results['ack_burst']['rate']:.0f}/s"),
        (results["ack_flood"], "from 32 senders posting as fast as they are answered"),
    ):
        lines += [
            f"Webhook ack, {burst['webhooks']} new texters {how}:",
            f"  ack p50 {burst['ack_p50_ms']:.1f} ms, p99 {burst['ack_p99_ms']:.1f} ms, "
            f"max {burst['ack_max_ms']:.1f} ms; all acked in {burst['acked_in_s']:.2f} s "
            f"({burst['webhooks'] / burst['acked_in_s']:.0f}/s); "
            f"{burst['replied']}/{burst['webhooks']} replies in "
            f"{burst['all_replied_in_s']:.2f} s; errors {burst['errors']}",
        ]
    return "\n".join(lines)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--concurrency",
        default="8",
        help="customers texting at once, each waiting for their reply before the next "
        "text; a comma-separated list (e.g. 8,16,24) compares at each level in turn",
    )
    parser.add_argument("--messages", type=int, default=400, help="per round and channel")
    parser.add_argument(
        "--rounds",
        type=int,
        choices=range(1, 10),
        default=1,
        help="SMS rounds, each between two REST rounds",
    )
    parser.add_argument("--burst", type=int, default=300)
    parser.add_argument(
        "--burst-rate",
        type=float,
        default=100.0,
        help="new texters per second in the burst (then the same count again as a flood: "
        "32 senders as fast as they are answered)",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="SMS worker processes (default 1, as make run)"
    )
    parser.add_argument(
        "--postgres",
        metavar="ADMIN_URL",
        nargs="?",
        const="postgresql://postgres@127.0.0.1:5432/test",
        help="run on a fresh PostgreSQL database (created via ADMIN_URL, dropped after) "
        "with the Redis lock store, instead of SQLite",
    )
    parser.add_argument(
        "--outside-nice",
        type=int,
        default=0,
        metavar="N",
        help="run the outside world (this process: customers' phones and the Plivo "
        "stand-in) N nice steps below the stack, as if it were on other machines",
    )
    parser.add_argument(
        "--nice",
        action="append",
        default=[],
        metavar="ROLE=N",
        help="change a stack process's CPU priority by N nice steps (negative: more CPU; "
        "roles: rasa, receiver, worker-1, actions); repeatable",
    )
    parser.add_argument(
        "--realtime",
        action="append",
        default=[],
        metavar="ROLE",
        help="run a stack process under SCHED_RR (priority 1): it gets a CPU the moment it "
        "wants one, before any ordinary process; repeatable",
    )
    parser.add_argument(
        "--idle",
        action="append",
        default=[],
        metavar="ROLE",
        help="run a process under SCHED_IDLE: it gets a CPU only when no ordinary process "
        "wants one and yields it the moment one wakes (roles as --nice, plus outside: this "
        "process, the phones and the stand-in); repeatable",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    try:
        args.concurrency = [int(level) for level in args.concurrency.split(",")]
    except ValueError:
        parser.error("--concurrency takes numbers, e.g. 8 or 8,16,24")
    if min(args.concurrency) < 1:
        parser.error("--concurrency must be at least 1")
    if len(args.concurrency) * (2 * args.rounds + 1) > 80:  # sender prefixes 10..89
        parser.error("too many --concurrency levels for that many --rounds")
    try:
        args.nice = {role: int(steps) for role, steps in (n.split("=", 1) for n in args.nice)}
    except ValueError:
        parser.error("--nice takes ROLE=N, e.g. --nice rasa=-5")
    return args


def renice(pid: int, steps: int) -> None:
    """Every thread of a process (Linux nice is per thread; new threads inherit it)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        tid = int(task.name)
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + steps)


def make_realtime(pid: int) -> None:
    """Every thread of a process under SCHED_RR, priority 1 (new threads inherit it)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        os.sched_setscheduler(int(task.name), os.SCHED_RR, os.sched_param(1))


def make_idle(pid: int) -> None:
    """Every thread of a process under SCHED_IDLE (new threads inherit it)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        os.sched_setscheduler(int(task.name), os.SCHED_IDLE, os.sched_param(0))


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


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="sms-bench-"))
    database_url, drop, locks = f"sqlite:///{work / 'bot.db'}", None, IN_MEMORY_LOCKS
    if args.postgres:
        database_url, drop = fresh_postgres(args.postgres)
        locks = redis_locks(prefix=work.name)
    prepare_our_database(database_url)
    rasa_port = free_port()
    bot_url = f"http://127.0.0.1:{rasa_port}"
    receiver_port = free_port()
    front_url = f"http://127.0.0.1:{receiver_port}"
    standin = StandIn(
        AUTH_ID,
        AUTH_TOKEN,
        BUSINESS,
        f"{front_url}/webhooks/plivo/webhook",
        status_delays=(0.01, 0.01),
    ).start()
    env = {
        "DATABASE_URL": database_url,
        "PLIVO_AUTH_ID": AUTH_ID,
        "PLIVO_AUTH_TOKEN": AUTH_TOKEN,
        "PLIVO_NUMBER": BUSINESS,
        "PLIVO_API_URL": standin.url,
        "BOT_PUBLIC_URL": front_url,
        "SMS_RATE_PER_SECOND": "10000",
        "BUSINESS_HOURS": "00:00-24:00",
        "BUSINESS_DAYS": "mon,tue,wed,thu,fri,sat,sun",
    }
    stack = start_stack(
        DEFAULT_MODEL,
        env=env,
        rasa_port=rasa_port,
        log_dir=work,
        credentials=PROJECT_ROOT / "credentials.yml",
        lock_store=locks,
        receiver_port=receiver_port,
        workers=args.workers,
    )
    pids = {role: proc.pid for role, proc in stack.processes.items()}
    # The webhook poster of the ack tests: started now, it keeps the stack's priority.
    poster = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    poster.submit(os.getpid).result()
    if args.outside_nice:  # this process: the load generator and the stand-in
        renice(os.getpid(), args.outside_nice)
    for role, steps in args.nice.items():
        renice(pids[role], steps)
    for role in args.realtime:
        make_realtime(pids[role])
    for role in args.idle:
        make_idle(os.getpid() if role == "outside" else pids[role])
    try:
        results = asyncio.run(run(args, bot_url, front_url, standin, pids, poster))
    finally:
        poster.shutdown()
        stack.stop()
        standin.stop()
        if drop:
            drop()
    meta = {
        "database": "PostgreSQL + Redis locks" if args.postgres else "SQLite",
        "workers": args.workers,
        "nice": args.nice,
        "realtime": args.realtime,
        "idle": args.idle,
        "concurrency": args.concurrency,
        "messages": args.messages,
        "rounds": args.rounds,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "date": time.strftime("%Y-%m-%d"),
    }
    print(json.dumps({"meta": meta, **results}, indent=2) if args.json else table(results, meta))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
