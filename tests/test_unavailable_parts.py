"""What the assistant's side does when Redis or the database does not answer: the lock
store raises LockError (the Plivo channel then answers 503 and the worker asks again)
and still lets a finished turn stand; the tracker store fails a turn on a database
outage instead of running it on an empty tracker; /health names the lock store.
End to end: tests/test_faults_scaled.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from rasa.core.lock_store import LockError
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from sqlalchemy.exc import OperationalError

from bot.launcher import free_port
from bot.rasa_ext.lock_store import AtomicRedisLockStore
from bot.sms.metrics import redis_answers
from channels.plivo import strict_tracker_store
from tests.scaled_topology import PrivateRedis

needs_redis_server = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="needs redis-server"
)


@pytest.fixture
def private_redis(tmp_path: Path):
    server = PrivateRedis(tmp_path).start()
    yield server
    server.stop()


@needs_redis_server
async def test_lock_store_without_redis_raises_lock_error(private_redis: PrivateRedis) -> None:
    store = AtomicRedisLockStore(host="127.0.0.1", port=private_redis.port, key_prefix="t")
    async with store.lock("+15550001111", lock_lifetime=5):
        pass  # Redis up: fine
    private_redis.stop()
    with pytest.raises(LockError):
        async with store.lock("+15550001111", lock_lifetime=5):
            pytest.fail("entered the lock without Redis")


@needs_redis_server
async def test_a_turn_stands_when_redis_goes_away_before_its_ticket_is_returned(
    private_redis: PrivateRedis,
) -> None:
    store = AtomicRedisLockStore(host="127.0.0.1", port=private_redis.port, key_prefix="t")
    ran = False
    async with store.lock("+15550002222", lock_lifetime=5):
        private_redis.stop()
        ran = True
    assert ran  # no exception from giving the ticket back


@needs_redis_server
def test_redis_answers(private_redis: PrivateRedis) -> None:
    assert redis_answers("127.0.0.1", private_redis.port)
    private_redis.stop()
    assert not redis_answers("127.0.0.1", private_redis.port, timeout=0.5)
    assert not redis_answers("127.0.0.1", free_port(), timeout=0.5)


class _Broken(InMemoryTrackerStore):
    """A tracker store whose database fails with `error`."""

    error: Exception = OperationalError("SELECT", {}, Exception("server closed the connection"))

    async def retrieve(self, sender_id: str):  # type: ignore[override]
        raise self.error

    async def save(self, tracker) -> None:  # type: ignore[override]
        raise self.error


class _Agent:
    def __init__(self, store: FailSafeTrackerStore) -> None:
        self.tracker_store = store


async def test_a_database_outage_fails_the_turn_instead_of_an_empty_tracker() -> None:
    store = FailSafeTrackerStore(_Broken(Domain.empty()))
    assert await store.retrieve("+15550003333") is None  # Rasa's own fallback
    strict_tracker_store(_Agent(store))
    with pytest.raises(OperationalError):
        await store.retrieve("+15550003333")
    tracker = await InMemoryTrackerStore(Domain.empty()).get_or_create_tracker("+15550003333")
    with pytest.raises(OperationalError):
        await store.save(tracker)


async def test_other_tracker_store_errors_fall_back_as_rasa_does() -> None:
    broken = _Broken(Domain.empty())
    broken.error = ValueError("unreadable event")
    store = FailSafeTrackerStore(broken)
    strict_tracker_store(_Agent(store))
    assert await store.retrieve("+15550004444") is None
