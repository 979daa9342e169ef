"""Rasa's Redis lock store race (rasa#9213) and `AtomicRedisLockStore`, on a real Redis.

The race tests run many lockers for one conversation in several OS processes and record
when each was inside the lock; the end-to-end tests send concurrent turns for one sender
straight to two Rasa servers sharing a PostgreSQL tracker store.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import time
import uuid
from dataclasses import dataclass
from typing import Iterator, List, Tuple, Type

import pytest
import redis
from rasa.core.lock_store import LockError, RedisLockStore

from bot.rasa_ext.lock_store import AtomicRedisLockStore

REDIS_HOST, REDIS_PORT, REDIS_DB = "127.0.0.1", 6379, 1
# Tickets outlive every race: no one is let in because a ticket expired.
LIFETIME = 60


@dataclass(frozen=True)
class Visit:
    """One locker's time inside the lock (monotonic clock, shared by all processes)."""

    enter: float
    exit: float
    pid: int
    ticket: int


@dataclass(frozen=True)
class Race:
    """What the lockers of one race saw."""

    visits: List[Visit]
    errors: List[str]
    stalled: int

    def overlaps(self) -> List[Tuple[Visit, Visit]]:
        """Pairs of visits that were inside the lock at the same time."""
        pairs = []
        ordered = sorted(self.visits, key=lambda v: v.enter)
        for i, first in enumerate(ordered):
            for second in ordered[i + 1 :]:
                if second.enter >= first.exit:
                    break
                pairs.append((first, second))
        return pairs

    def most_inside(self) -> int:
        """The largest number of lockers inside the lock at one moment."""
        edges = sorted([(v.enter, 1) for v in self.visits] + [(v.exit, -1) for v in self.visits])
        inside = most = 0
        for _, step in edges:
            inside += step
            most = max(most, inside)
        return most


def _lockers(
    store_class: Type[RedisLockStore],
    prefix: str,
    conversation_id: str,
    lockers: int,
    rounds: int,
    hold: float,
    wait: float,
    start: multiprocessing.synchronize.Barrier,
) -> None:
    """One process: `lockers` coroutines, each taking the lock `rounds` times.

    Each visit (or `LockError`) goes to the Redis list `<prefix>:log` as soon as it ends,
    so a race that stalls still shows what happened before.
    """
    store = store_class(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB, key_prefix=prefix)
    log = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB)
    pid = os.getpid()

    async def locker() -> None:
        for _ in range(rounds):
            try:
                async with store.lock(conversation_id, LIFETIME, wait) as lock:
                    enter = time.monotonic()
                    ticket = lock.now_serving or 0
                    await asyncio.sleep(hold)
                    visit = {"enter": enter, "exit": time.monotonic(), "pid": pid, "ticket": ticket}
                log.rpush(f"{prefix}:log", json.dumps(visit))
            except LockError as e:
                log.rpush(f"{prefix}:log", json.dumps({"error": str(e).splitlines()[0]}))

    async def main() -> None:
        await asyncio.gather(*(locker() for _ in range(lockers)))

    start.wait()
    asyncio.run(main())


def race(
    store_class: Type[RedisLockStore],
    processes: int = 4,
    lockers: int = 5,
    rounds: int = 4,
    hold: float = 0.005,
    wait: float = 0.005,
    deadline: float = 30.0,
) -> Race:
    """Run `processes` × `lockers` × `rounds` critical sections on one conversation.

    Lockers still waiting after `deadline` seconds are stopped (counted in `stalled`).
    """
    ctx = multiprocessing.get_context("spawn")
    prefix = f"race{uuid.uuid4().hex[:10]}"
    conversation_id = "+15005550123"
    start = ctx.Barrier(processes)
    args = (store_class, prefix, conversation_id, lockers, rounds, hold, wait, start)
    workers = [ctx.Process(target=_lockers, args=args) for _ in range(processes)]
    for worker in workers:
        worker.start()
    red = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB)
    try:
        stop_at = time.monotonic() + deadline
        for worker in workers:
            worker.join(timeout=max(0.0, stop_at - time.monotonic()))
        for worker in workers:
            if worker.is_alive():
                worker.kill()
                worker.join()
        entries = [json.loads(e) for e in red.lrange(f"{prefix}:log", 0, -1)]
    finally:
        keys = list(red.scan_iter(match=f"{prefix}:*"))
        if keys:
            red.delete(*keys)
        red.close()
    visits = [Visit(**e) for e in entries if "error" not in e]
    errors = [e["error"] for e in entries if "error" in e]
    return Race(visits, errors, processes * lockers * rounds - len(entries))


@pytest.fixture(scope="module")
def redis_up() -> Iterator[None]:
    red = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB, socket_timeout=2)
    red.ping()
    red.close()
    yield


def test_atomic_lock_store_lets_one_locker_in_at_a_time(redis_up: None) -> None:
    """4 processes × 5 lockers × 4 rounds on one conversation: never two inside."""
    result = race(AtomicRedisLockStore, rounds=4)
    assert result.overlaps() == []
    assert (len(result.visits), result.errors, result.stalled) == (80, [], 0)
    tickets = [v.ticket for v in sorted(result.visits, key=lambda v: v.enter)]
    assert tickets == sorted(set(tickets))  # served in the order the tickets were issued


def test_stock_redis_lock_store_lets_lockers_in_together(redis_up: None) -> None:
    """The same race on Rasa's `RedisLockStore`: processes that issue tickets at the same
    moment read the same queue and take the same number, so they are inside together
    (rasa#9213). Lost and resurrected tickets also leave lockers waiting for a ticket's
    lifetime, hence the short deadline."""
    for _ in range(3):
        result = race(RedisLockStore, rounds=1, deadline=10)
        pairs = result.overlaps()
        if pairs:
            break
    assert pairs, "no overlap in 3 races"
    assert any(a.pid != b.pid and a.ticket == b.ticket for a, b in pairs)
    assert result.most_inside() >= 2
