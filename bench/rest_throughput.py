"""REST channel throughput, latency and memory: this bot vs a stock `rasa init` bot.

Usage:
    .venv/bin/python -m bench.rest_throughput                  # 8 customers, 800 messages per bot
    .venv/bin/python -m bench.rest_throughput --concurrency 16 --messages 1600
    .venv/bin/python -m bench.rest_throughput --json           # JSON instead of the table
    .venv/bin/python -m bench.rest_throughput --rounds 3       # fastest of 3 rounds per bot
    .venv/bin/python -m bench.rest_throughput --tracker-store memory  # diagnostic: no SQLite

What it does, in one run:

1. Builds the stock bot once with `rasa init --no-prompt` (its DIET + TED default config) in
   var/bench/rasa-init/ and reuses its model on later runs (delete the folder to rebuild).
2. Starts one stack at a time (the machine has 2 cores), each with a fresh temporary SQLite
   tracker store in WAL journal mode (ours gets WAL from bot.store.db; the stock file is created in
   WAL mode here), the same in-memory lock store and a REST-only credentials file:
   - ours: `rasa run actions` + `rasa run` on models/sms-bot.tar.gz, tracker store
     bot.rasa_ext.tracker_store.BotSQLTrackerStore on a fresh migrated + seeded SQLite DATABASE_URL;
   - stock: `rasa run` on the rasa init model (no action server: it has no custom actions),
     tracker store Rasa's SQLTrackerStore (`type: SQL`, `dialect: sqlite`).
3. Warms each server up, then simulates `--concurrency` customers texting over
   POST /webhooks/rest/webhook: each customer runs 4-message conversations (messages of one
   conversation in order, each waiting for the reply), conversations run concurrently, every
   conversation has its own sender id (a fresh E.164 number that is not a seeded customer, so
   our order lookup takes the "order not found for this phone number" path).
4. Measures messages/s, p50/p99 latency, and VmRSS of the server processes after the load
   (for ours: the Rasa server, the action server and their sum), plus CPU seconds used by the
   servers per 100 messages. With --rounds N each bot gets N measured batches of --messages
   on the same server and the fastest batch is reported (all batches are in the JSON).

The load generator (aiohttp) runs in this process and shares the 2 cores with the servers,
the same way for both bots. The output also says how much CPU other processes on the machine
used during each measurement: figures taken while that share is high are not comparable.
Exit status 1 when a request failed (HTTP error, connection error, timeout).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence

import aiohttp

from bench.procstats import (
    children,
    cpu_seconds,
    machine_busy_seconds,
    proc_stats,
    self_cpu_seconds,
)
from bot.launcher import RASA, child_env, start_stack
from bot.settings import PROJECT_ROOT

OUR_MODEL = PROJECT_ROOT / "models" / "sms-bot.tar.gz"
STOCK_DIR = PROJECT_ROOT / "var" / "bench" / "rasa-init"
LOG_DIR = PROJECT_ROOT / "var" / "bench" / "logs"

OUR_CONVERSATION = ("hi", "where is my order A1001", "is there wifi", "thanks")
STOCK_CONVERSATION = ("hi", "I am sad", "yes", "bye")
REQUEST_TIMEOUT_S = 60.0
CPUS = os.cpu_count() or 1


# --- the two bots ----------------------------------------------------------------------------


def stock_model(rebuild_log: Path) -> Path:
    """The rasa init model, trained once into STOCK_DIR (about 1-2 minutes on 2 cores)."""
    models = sorted((STOCK_DIR / "models").glob("*.tar.gz"))
    if models:
        return models[-1]
    STOCK_DIR.mkdir(parents=True, exist_ok=True)
    if any(STOCK_DIR.iterdir()):
        raise SystemExit(f"{STOCK_DIR} has files but no model: delete it and run again")
    print(f"training the stock `rasa init` bot in {STOCK_DIR} ...", file=sys.stderr)
    rebuild_log.parent.mkdir(parents=True, exist_ok=True)
    with open(rebuild_log, "wb") as log:
        subprocess.run(
            [RASA, "init", "--no-prompt", "--init-dir", str(STOCK_DIR)],
            cwd=PROJECT_ROOT,
            env=child_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            check=True,
        )
    models = sorted((STOCK_DIR / "models").glob("*.tar.gz"))
    if not models:
        raise SystemExit(f"rasa init trained no model; see {rebuild_log}")
    return models[-1]


def prepare_our_database(url: str) -> None:
    """Migrate and seed a fresh database (in a child process: alembic configures logging)."""
    code = (
        "from bot.store.migrate import upgrade; from bot.store.db import session_scope; "
        "from bot.store.seed import seed\n"
        f"upgrade({url!r})\n"
        f"with session_scope({url!r}) as s: seed(s)\n"
    )
    subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        env=child_env({"DATABASE_URL": url}),
        check=True,
        stdout=subprocess.DEVNULL,
    )


def sqlite_wal(path: Path) -> None:
    """Create an SQLite file in WAL journal mode (a mode stored in the file, so it persists).

    Rasa's SQLTrackerStore opens SQLite with the default rollback journal; our database gets
    WAL from the migrations and the action server (bot.store.db), which makes commits cheaper.
    Giving the stock tracker file WAL too keeps the comparison about the bots, not the journal.
    """
    with sqlite3.connect(path) as connection:
        mode = connection.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if mode != "wal":
        raise RuntimeError(f"could not put {path} in WAL mode (got {mode})")


# --- load ----------------------------------------------------------------------------------


@dataclass
class LoadResult:
    messages: int = 0
    seconds: float = 0.0
    latencies_ms: List[float] = field(default_factory=list)
    errors: Dict[str, int] = field(default_factory=dict)
    empty_replies: int = 0
    sample: List[Dict[str, Any]] = field(default_factory=list)  # one conversation's replies

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


def sender_ids(prefix: int) -> Iterator[str]:
    """Distinct E.164 numbers (+1 555 PP NNNNN), none of them a seeded customer."""
    n = 0
    while True:
        yield f"+1555{prefix:02d}{n:05d}"
        n += 1


def reply_texts(body: Any) -> List[str]:
    return [m.get("text") or ("[image]" if m.get("image") else "[other]") for m in body or []]


async def drive(
    url: str,
    conversation: Sequence[str],
    concurrency: int,
    messages: int,
    senders: Iterator[str],
    keep_sample: bool = False,
) -> LoadResult:
    """`concurrency` customers work through ceil(messages / len(conversation)) conversations."""
    result = LoadResult()
    conversations = -(-messages // len(conversation))
    queue: asyncio.Queue = asyncio.Queue()
    ids = [next(senders) for _ in range(conversations)]
    for sender in ids:
        queue.put_nowait(sender)
    sample_sender = ids[0] if keep_sample else None  # keep the first conversation's replies
    webhook = f"{url}/webhooks/rest/webhook"
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)

    async def customer(session: aiohttp.ClientSession) -> None:
        while True:
            try:
                sender = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            for text in conversation:
                started = time.perf_counter()
                try:
                    async with session.post(
                        webhook, json={"sender": sender, "message": text}
                    ) as response:
                        body = await response.json(content_type=None)
                        status = response.status
                except asyncio.TimeoutError:
                    result.error("timeout")
                    continue
                except aiohttp.ClientError as error:
                    result.error(type(error).__name__)
                    continue
                elapsed_ms = (time.perf_counter() - started) * 1000.0
                result.messages += 1
                result.latencies_ms.append(elapsed_ms)
                if status != 200:
                    result.error(f"http_{status}")
                elif not body:
                    result.empty_replies += 1
                if sender == sample_sender:
                    result.sample.append({"user": text, "bot": reply_texts(body)})

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        started = time.perf_counter()
        await asyncio.gather(*(customer(session) for _ in range(concurrency)))
        result.seconds = time.perf_counter() - started
    return result


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


# --- one bot -------------------------------------------------------------------------------


def bench_bot(
    name: str,
    model: Path,
    conversation: Sequence[str],
    args: argparse.Namespace,
    sender_prefix: int,
    workdir: Path,
) -> Dict[str, Any]:
    log_dir = LOG_DIR / name
    log_dir.mkdir(parents=True, exist_ok=True)
    for old in log_dir.glob("*.log"):
        old.unlink()
    credentials = workdir / "credentials.yml"
    credentials.write_text("rest:\n")  # the same REST-only channel config for both bots
    if name == "ours":
        db_url = f"sqlite:///{workdir / 'bot.db'}"
        prepare_our_database(db_url)
        stack_kwargs: Dict[str, Any] = {"env": {"DATABASE_URL": db_url}}
        tracker = (
            "bot.rasa_ext.tracker_store.BotSQLTrackerStore (SQLite WAL, temp file; bot tables too)"
        )
        roles = ["action_server", "rasa_server"]
    else:
        db = workdir / "tracker.db"
        sqlite_wal(db)  # our database is in WAL mode (bot.store.db sets it), so the stock one too
        stack_kwargs = {
            "tracker_store": f"  type: SQL\n  dialect: sqlite\n  db: {db}",
            "actions_package": None,
            "speedups": False,  # a plain `rasa run`, as the stock bot ships
        }
        tracker = "rasa SQLTrackerStore (SQLite WAL, temp file)"
        roles = ["rasa_server"]
    if args.tracker_store == "memory":  # diagnostic: how much of the cost is the tracker store
        stack_kwargs["tracker_store"] = "  type: in_memory"
        tracker = "InMemoryTrackerStore"

    print(f"[{name}] starting {model.name} ...", file=sys.stderr)
    started = time.monotonic()
    stack = start_stack(
        model,
        credentials=credentials,
        log_dir=log_dir,
        startup_timeout=600.0,  # the stock model: 30-60 s on a quiet box, minutes on a busy one
        **stack_kwargs,
    )
    try:
        startup_s = time.monotonic() - started
        pids = dict(zip(roles, (p.pid for p in stack.processes.values()), strict=True))
        senders = sender_ids(sender_prefix)
        print(f"[{name}] up in {startup_s:.1f}s; warming up ...", file=sys.stderr)
        warm = asyncio.run(
            drive(stack.url, conversation, args.concurrency, args.warmup, senders, True)
        )
        rounds = []
        for number in range(1, args.rounds + 1):
            print(f"[{name}] round {number}: {args.messages} messages ...", file=sys.stderr)
            rounds.append(measure_round(stack.url, conversation, args, senders, pids))
            for process in stack.processes.values():
                if process.poll() is not None:
                    raise RuntimeError(f"{name}: {process.args[:3]} died during the load")
        stats = {role: proc_stats(pid) for role, pid in pids.items()}  # memory after the load
        child_pids = {role: children(pid) for role, pid in pids.items()}
    finally:
        stack.stop()

    best = max(rounds, key=lambda r: r["messages_per_s"])
    rss = {role: round(s.rss_mb, 1) for role, s in stats.items()}
    errors: Dict[str, int] = {}
    for measured in rounds:
        for kind, count in measured["errors"].items():
            errors[kind] = errors.get(kind, 0) + count
    return {
        "model": str(model.relative_to(PROJECT_ROOT)),
        "tracker_store": tracker,
        "conversation": list(conversation),
        "startup_s": round(startup_s, 1),
        **{k: v for k, v in best.items() if k not in ("errors", "empty_replies")},
        "best_round": rounds.index(best) + 1,
        "rss_mb": rss,
        "rss_total_mb": round(sum(rss.values()), 1),
        "peak_rss_mb": {role: round(s.hwm_mb, 1) for role, s in stats.items()},
        "threads": {role: s.threads for role, s in stats.items()},
        "child_processes": {role: len(p) for role, p in child_pids.items()},
        "errors": errors,  # over all rounds
        "empty_replies": sum(r["empty_replies"] for r in rounds),
        "rounds": rounds,
        "warmup": {
            "messages": warm.messages,
            "errors": warm.errors,
            "empty_replies": warm.empty_replies,
        },
        "sample_conversation": warm.sample,
    }


def measure_round(
    url: str,
    conversation: Sequence[str],
    args: argparse.Namespace,
    senders: Iterator[str],
    pids: Dict[str, int],
) -> Dict[str, Any]:
    """One measured batch of `args.messages` messages, with the CPU the servers used for it."""
    cpu_before = {role: cpu_seconds(pid) for role, pid in pids.items()}
    machine_before, client_before = machine_busy_seconds(), self_cpu_seconds()
    load = asyncio.run(drive(url, conversation, args.concurrency, args.messages, senders))
    machine_s, client_s = machine_busy_seconds(), self_cpu_seconds()
    cpu = {role: cpu_seconds(pid) - cpu_before[role] for role, pid in pids.items()}
    server_cpu_s = sum(cpu.values())
    client_cpu_s = client_s - client_before
    # CPU the rest of the machine used meanwhile (other jobs skew the figures when large)
    other_cpu_s = max(0.0, machine_s - machine_before - server_cpu_s - client_cpu_s)
    per_100 = 100.0 / max(load.messages, 1)
    return {
        "messages": load.messages,
        "seconds": round(load.seconds, 2),
        "messages_per_s": round(load.messages / load.seconds, 2) if load.seconds else 0.0,
        "latency_p50_ms": round(percentile(load.latencies_ms, 50), 1),
        "latency_p99_ms": round(percentile(load.latencies_ms, 99), 1),
        "latency_max_ms": round(max(load.latencies_ms, default=float("nan")), 1),
        "server_cpu_s_per_100_msgs": round(server_cpu_s * per_100, 2),
        "cpu_s_per_100_msgs_by_role": {role: round(c * per_100, 2) for role, c in cpu.items()},
        "client_cpu_s": round(client_cpu_s, 1),
        "other_processes_cpu_share": round(other_cpu_s / (load.seconds * CPUS), 3)
        if load.seconds
        else None,
        "errors": load.errors,
        "empty_replies": load.empty_replies,
    }


# --- report --------------------------------------------------------------------------------

ROWS = [
    # label, getter, format
    ("messages/s", lambda r: r["messages_per_s"], "{:.1f}"),
    ("latency p50 (ms)", lambda r: r["latency_p50_ms"], "{:.0f}"),
    ("latency p99 (ms)", lambda r: r["latency_p99_ms"], "{:.0f}"),
    ("RSS rasa server (MB)", lambda r: r["rss_mb"]["rasa_server"], "{:.0f}"),
    ("RSS action server (MB)", lambda r: r["rss_mb"].get("action_server"), "{:.0f}"),
    ("RSS total (MB)", lambda r: r["rss_total_mb"], "{:.0f}"),
    ("server CPU s / 100 msgs", lambda r: r["server_cpu_s_per_100_msgs"], "{:.2f}"),
    ("startup (s)", lambda r: r["startup_s"], "{:.1f}"),
]


def ratio(ours: Optional[float], stock: Optional[float]) -> Optional[float]:
    if ours is None or not stock:
        return None
    return round(ours / stock, 2)


def ratios(results: Dict[str, Dict[str, Any]]) -> Dict[str, Optional[float]]:
    return {label: ratio(get(results["ours"]), get(results["stock"])) for label, get, _ in ROWS}


def table(results: Dict[str, Dict[str, Any]], meta: Dict[str, Any]) -> str:
    def cell(value: Optional[float], fmt: str) -> str:
        return "-" if value is None else fmt.format(value)

    lines = [
        "| figure | this bot | stock `rasa init` | ours / stock |",
        "|---|---:|---:|---:|",
    ]
    for label, get, fmt in ROWS:
        ours, stock = get(results["ours"]), get(results["stock"])
        r = ratio(ours, stock)
        lines.append(
            f"| {label} | {cell(ours, fmt)} | {cell(stock, fmt)} | "
            f"{'-' if r is None else f'{r:.2f}x'} |"
        )
    notes = [
        "",
        f"concurrency {meta['concurrency']}, {meta['messages']} measured messages per bot "
        f"and round (fastest of {meta['rounds']} rounds reported) after {meta['warmup']} "
        f"warm-up messages; {meta['cpus']} CPUs; {meta['date']}",
    ]
    for name in ("ours", "stock"):
        r = results[name]
        notes.append(
            f"{name}: {' / '.join(r['conversation'])} | tracker store: {r['tracker_store']} | "
            f"errors {r['errors'] or 0}, empty replies {r['empty_replies']}, "
            f"max latency {r['latency_max_ms']:.0f} ms; other processes used "
            f"{100 * (r['other_processes_cpu_share'] or 0):.0f}% of the CPUs meanwhile"
        )
        for turn in r["sample_conversation"]:
            reply = " / ".join(turn["bot"]) or "(no reply)"
            notes.append(f"    {turn['user']!r} -> {reply[:90]}")
    return "\n".join(lines + notes)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--concurrency", type=int, default=8, help="simulated customers")
    parser.add_argument("--messages", type=int, default=800, help="measured messages per bot")
    parser.add_argument("--warmup", type=int, default=64, help="warm-up messages per bot")
    parser.add_argument(
        "--tracker-store",
        choices=("sqlite", "memory"),
        default="sqlite",
        help="sqlite (default, both bots) or memory (diagnostic, both bots)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measured rounds of --messages per bot; the fastest round is reported "
        "(filters out other jobs on a shared machine; all rounds are in --json)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    if min(args.concurrency, args.messages, args.warmup, args.rounds) < 1:
        parser.error("--concurrency, --messages, --warmup and --rounds must be positive")
    return args


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    if not OUR_MODEL.exists():
        raise SystemExit(f"{OUR_MODEL} is missing: run `make train` first")
    stock = stock_model(LOG_DIR / "rasa-init.log")
    results: Dict[str, Dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="rest-bench-") as tmp:
        for prefix, (name, model, conversation) in enumerate(
            (("ours", OUR_MODEL, OUR_CONVERSATION), ("stock", stock, STOCK_CONVERSATION))
        ):
            workdir = Path(tmp) / name
            workdir.mkdir()
            results[name] = bench_bot(name, model, conversation, args, prefix, workdir)
    meta = {
        "concurrency": args.concurrency,
        "messages": args.messages,
        "warmup": args.warmup,
        "rounds": args.rounds,
        "tracker_store": args.tracker_store,
        "cpus": CPUS,
        "machine": platform.machine(),
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
    if args.json:
        print(json.dumps({"meta": meta, "results": results, "ratios": ratios(results)}, indent=2))
    else:
        print(table(results, meta))
    bad = [
        n
        for n, r in results.items()
        if r["errors"] or any(x["messages"] < args.messages for x in r["rounds"])
    ]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
