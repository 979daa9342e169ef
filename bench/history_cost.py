"""Cost of a message as a customer's history grows: REST latency, events read.

Usage:
    .venv/bin/python -m bench.history_cost                 # SQLite (embedded default)
    .venv/bin/python -m bench.history_cost --db postgres   # PostgreSQL (production)
    .venv/bin/python -m bench.history_cost --smoke         # ~1 minute, smaller counts
    .venv/bin/python -m bench.history_cost --json          # JSON instead of the table

One run, one stack (action server + Rasa server on models/sms-bot.tar.gz, a fresh migrated and
seeded database, REST channel, in-memory locks), messages sent one at a time:

1. Long conversation: the seeded demo customer (+15005550001) texts `--long` messages without
   pausing, cycling through 10 texts (greeting, FAQs, order tracking, requests, thanks). The
   median latency of messages 391-410 (around #400) over that of messages 1-20 (around #10);
   target <= 1.3x.
2. Lifetime history: `--customers` senders get `--sessions` past sessions each, copies of a
   real 6-message session (~30 events) written straight into Rasa's `events` table, the last
   one ended hours ago; then each of them and as many new senders (interleaved) text the same
   8 messages. Median latency, old over new; target <= 1.2x.

Also printed, for each measured message: the events the tracker store reads for it, i.e. the
sender's events stored since their latest `session_started` (Rasa's retrieve) when the message
arrives. That figure does not depend on the machine's load: it is what tests assert on.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

from sqlalchemy import create_engine, text

from bench.history_seed import seed_history, session_template
from bench.rest_throughput import prepare_our_database
from bench.sms_throughput import fresh_postgres
from bot.launcher import DEFAULT_MODEL, start_stack
from bot.settings import PROJECT_ROOT, _sqlite_sibling

POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
LOG_DIR = PROJECT_ROOT / "var" / "bench" / "logs"
LONG_TARGET = 1.3
HISTORY_TARGET = 1.2

# 10 texts: a window of 20 consecutive messages holds each of them twice, wherever it starts.
LONG_MIX = (
    "hi",
    "is there free wifi",
    "where is my order A1001",
    "what time is check out",
    "thanks",
    "do you have parking",
    "REQUESTS",
    "what are your opening hours",
    "ORDER A1002",
    "ok thank you",
)
HISTORY_MIX = (
    "hi",
    "is there free wifi",
    "where is my order A1001",
    "what time is check out",
    "do you have parking",
    "what requests do i have",
    "what are your opening hours",
    "thanks",
)
TEMPLATE_MIX = HISTORY_MIX[:6]


@dataclass(frozen=True)
class Sizes:
    """How much to send: the full run or the smoke run."""

    long: int
    near: int
    far: int
    window: int
    customers: int
    sessions: int


FULL = Sizes(long=410, near=10, far=400, window=20, customers=6, sessions=200)
SMOKE = Sizes(long=130, near=10, far=120, window=20, customers=2, sessions=200)


@dataclass
class Sample:
    """Latencies (ms) and events read of a set of messages."""

    latencies_ms: List[float] = field(default_factory=list)
    events_read: List[int] = field(default_factory=list)

    def summary(self) -> Dict[str, Any]:
        """Median latency and the events-read range."""
        return {
            "messages": len(self.latencies_ms),
            "median_ms": round(statistics.median(self.latencies_ms), 1),
            "events_read_max": max(self.events_read),
            "events_read_median": statistics.median(self.events_read),
        }


def tracker_url(database_url: str) -> str:
    """Where the tracker store keeps `events` for this DATABASE_URL (bot.settings' rule)."""
    return _sqlite_sibling(database_url, "tracker") or database_url


class Client:
    """Sends texts over REST and reads what the tracker store will load for a sender."""

    def __init__(self, rasa_url: str, events_url: str) -> None:
        self.rasa_url = rasa_url
        self.engine = create_engine(events_url, future=True)
        self.unexpected: List[str] = []

    def say(self, sender: str, message: str) -> float:
        """Send one text; the latency in ms."""
        body = json.dumps({"sender": sender, "message": message}).encode()
        request = urllib.request.Request(
            f"{self.rasa_url}/webhooks/rest/webhook", body, {"Content-Type": "application/json"}
        )
        start = time.perf_counter()
        with urllib.request.urlopen(request, timeout=60) as response:
            replies = json.load(response)
        elapsed = (time.perf_counter() - start) * 1000.0
        texts = " ".join(r.get("text", "") for r in replies)
        if not texts or "say it another way" in texts or "Sorry, I can't help" in texts:
            self.unexpected.append(f"{message!r} -> {texts!r}")
        return elapsed

    def session_events(self, sender: str) -> int:
        """Events stored since the sender's latest session_started (what retrieve() loads)."""
        query = text(
            "SELECT COUNT(*) FROM events WHERE sender_id = :s AND timestamp >= COALESCE("
            "(SELECT MAX(timestamp) FROM events WHERE sender_id = :s "
            "AND type_name = 'session_started'), 0)"
        )
        with self.engine.connect() as conn:
            return int(conn.execute(query, {"s": sender}).scalar_one())

    def measured(self, sender: str, message: str, sample: Sample) -> None:
        """Send one text, recording its latency and the events read for it."""
        sample.events_read.append(self.session_events(sender))
        sample.latencies_ms.append(self.say(sender, message))

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()


def long_conversation(client: Client, sizes: Sizes) -> Dict[str, Any]:
    """Message #`far` of one sender vs message #`near` of another, measured in turns.

    Both senders first get their earlier texts; then each pair of measured texts (the same
    text to each) goes out back to back, so a busy machine slows both alike.
    """
    near_sender, far_sender = phones(93, 2)
    half = sizes.window // 2
    every: List[int] = []
    for n in range(1, sizes.far - half + 1):
        client.say(far_sender, LONG_MIX[(n - 1) % len(LONG_MIX)])
        if n % 10 == 0:
            every.append(client.session_events(far_sender))
    for n in range(1, sizes.near - half + 1):
        client.say(near_sender, LONG_MIX[(n - 1) % len(LONG_MIX)])
    samples = {"near": Sample(), "far": Sample()}
    for i in range(sizes.window):
        message = LONG_MIX[(sizes.near - half + i) % len(LONG_MIX)]
        client.measured(near_sender, message, samples["near"])
        client.measured(far_sender, message, samples["far"])
    near, far = samples["near"].summary(), samples["far"].summary()
    return {
        "senders": [near_sender, far_sender],
        "messages": sizes.far + half,
        "near": {"around": sizes.near, **near},
        "far": {"around": sizes.far, **far},
        "ratio": round(far["median_ms"] / near["median_ms"], 2),
        "target": LONG_TARGET,
        "session_events_every_10": every,
    }


def phones(prefix: int, count: int) -> List[str]:
    """E.164 numbers that are not seeded customers."""
    return [f"+1555{prefix:02d}{i:05d}" for i in range(count)]


def history(client: Client, events_url: str, sizes: Sizes) -> Dict[str, Any]:
    """Senders with `sizes.sessions` past sessions vs new senders, same texts, interleaved."""
    [template_sender] = phones(90, 1)
    for message in TEMPLATE_MIX:
        client.say(template_sender, message)
    template = session_template(events_url, template_sender)
    old, new = phones(91, sizes.customers), phones(92, sizes.customers)
    started = time.perf_counter()
    written = seed_history(events_url, template, old, sizes.sessions, now=time.time())
    seeding_s = time.perf_counter() - started
    samples = {"old": Sample(), "new": Sample()}
    for old_sender, new_sender in zip(old, new, strict=True):
        for message in HISTORY_MIX:
            client.measured(old_sender, message, samples["old"])
            client.measured(new_sender, message, samples["new"])
    first = {
        kind: round(statistics.median(s.latencies_ms[:: len(HISTORY_MIX)]), 1)
        for kind, s in samples.items()
    }
    old_s, new_s = samples["old"].summary(), samples["new"].summary()
    return {
        "customers": sizes.customers,
        "past_sessions": sizes.sessions,
        "past_events_per_customer": written // sizes.customers,
        "seeding_s": round(seeding_s, 1),
        "old": {**old_s, "first_message_median_ms": first["old"]},
        "new": {**new_s, "first_message_median_ms": first["new"]},
        "ratio": round(old_s["median_ms"] / new_s["median_ms"], 2),
        "first_message_ratio": round(first["old"] / first["new"], 2),
        "target": HISTORY_TARGET,
    }


def scratch_database(db: str, stack: ExitStack, admin_url: str) -> str:
    """A fresh DATABASE_URL, migrated and seeded; removed when `stack` closes."""
    if db == "postgres":
        url, drop = fresh_postgres(admin_url)
        stack.callback(drop)
    else:
        work = stack.enter_context(tempfile.TemporaryDirectory(prefix="history-bench-"))
        url = f"sqlite:///{Path(work) / 'bot.store.db'}"
    prepare_our_database(url)
    return url


def run(
    db: str = "sqlite",
    smoke: bool = False,
    admin_url: str = POSTGRES_ADMIN_URL,
    model: Path = DEFAULT_MODEL,
    tracker_store: Optional[str] = None,
    log_dir: Path = LOG_DIR,
    progress: Callable[[str], None] = lambda line: None,
) -> Dict[str, Any]:
    """Both measurements on one stack; the figures as a dict."""
    sizes = SMOKE if smoke else FULL
    log_dir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        url = scratch_database(db, stack, admin_url)
        credentials = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "rest.yml"
        credentials.write_text("rest:\n")
        extra = {"tracker_store": tracker_store} if tracker_store else {}
        started = time.perf_counter()
        rasa = stack.enter_context(
            start_stack(
                model,
                env={"DATABASE_URL": url},
                log_dir=log_dir,
                credentials=credentials,
                **extra,
            )
        )
        startup_s = time.perf_counter() - started
        client = Client(rasa.url, tracker_url(url))
        stack.callback(client.close)
        for warm in phones(89, 2):
            for message in LONG_MIX:
                client.say(warm, message)
        progress("long conversation ...")
        long = long_conversation(client, sizes)
        progress("lifetime history ...")
        past = history(client, tracker_url(url), sizes)
        return {
            "db": db,
            "smoke": smoke,
            "startup_s": round(startup_s, 1),
            "long": long,
            "history": past,
            "unexpected_replies": client.unexpected,
        }


def table(result: Dict[str, Any]) -> str:
    """The figures as a Markdown table."""
    long, past = result["long"], result["history"]
    rows = [
        f"database: {result['db']}{' (smoke)' if result['smoke'] else ''}",
        "",
        "| measurement | baseline | measured | ratio | target |",
        "|---|---:|---:|---:|---:|",
        f"| message #{long['far']['around']} vs #{long['near']['around']}, median ms "
        f"| {long['near']['median_ms']} | {long['far']['median_ms']} | {long['ratio']}x "
        f"| <= {long['target']}x |",
        f"| ... events read per message, max | {long['near']['events_read_max']} "
        f"| {long['far']['events_read_max']} | | |",
        f"| {past['past_sessions']} past sessions ({past['past_events_per_customer']} events) "
        f"vs new customer, median ms | {past['new']['median_ms']} | {past['old']['median_ms']} "
        f"| {past['ratio']}x | <= {past['target']}x |",
        f"| ... first message of the visit, median ms | {past['new']['first_message_median_ms']} "
        f"| {past['old']['first_message_median_ms']} | {past['first_message_ratio']}x | |",
        f"| ... events read per message, max | {past['new']['events_read_max']} "
        f"| {past['old']['events_read_max']} | | |",
        "",
        f"session events every 10 messages: {long['session_events_every_10']}",
        f"unexpected replies: {len(result['unexpected_replies'])}",
    ]
    return "\n".join(rows)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--smoke", action="store_true", help="smaller counts, about a minute")
    parser.add_argument("--postgres-admin-url", default=POSTGRES_ADMIN_URL)
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the bench and print its figures."""
    args = parse_args(argv)
    result = run(
        args.db,
        args.smoke,
        args.postgres_admin_url,
        progress=lambda line: print(line, file=sys.stderr),
    )
    print(json.dumps(result, indent=2) if args.json else table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
