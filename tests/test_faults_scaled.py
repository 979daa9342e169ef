"""Faults on the production topology (deploy/Procfile: 2 Rasa servers, 2 SMS workers, the
receiver, actions, desk, the Plivo stand-in) on a private PostgreSQL and Redis.

Each test sends a burst of texts (tests/sms_burst.py), injects one fault in the middle of
it and prints the counts of texts sent, answered, lost, duplicated and answered out of
order (tests/sms_counts.py); lost, duplicated, out of order (and replies that answer no
text, e.g. an apology instead of the answer) must be 0. One topology serves the module;
each test leaves it healthy for the next. Another fault is a few lines: start a Burst,
wait for some answers, inject it (`topology.kill/restart`, `fail(...)`, ...), then
`_check(...)`.

    .venv/bin/python -m pytest tests/test_faults_scaled.py -s
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Iterator

import pytest

from tests.pg_statements import BIN as POSTGRES_BIN
from tests.scaled_topology import ScaledTopology
from tests.sms_burst import Burst, new_phones
from tests.sms_counts import Counts

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        POSTGRES_BIN is None or shutil.which("redis-server") is None,
        reason="needs PostgreSQL server binaries (initdb, pg_ctl) and redis-server",
    ),
]

PHONES = 25  # x 4 texts for each fault
GAP = 1.0  # seconds between a phone's texts: texts still arrive when the fault strikes
# A killed Rasa server leaves its conversation's lock ticket in Redis until it expires
# (Rasa's 60 s lifetime) and a killed worker's reply in `sending` until the outbox lease
# (60 s): a few texts legitimately wait that long.
ANSWER_SECONDS = 240.0


@pytest.fixture(scope="module")
def topology(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    started = time.monotonic()
    top = ScaledTopology(tmp_path_factory.mktemp("scaled-faults"))
    try:
        top.start()
        print(f"\nscaled topology up in {time.monotonic() - started:.0f} s ({top.workdir})")
        yield top
    finally:
        top.stop()


def _check(
    label: str, burst: Burst, topology: ScaledTopology, capsys: pytest.CaptureFixture
) -> Counts:
    """Wait for the answers, print the counts, assert nothing lost, doubled or reordered."""
    outbound = burst.wait_answered(ANSWER_SECONDS)
    counts = burst.counts(outbound, topology.recorded_order)
    with capsys.disabled():
        print("\n" + counts.line(label) + f" webhook_retries={burst.retried}")
    assert counts.sent == burst.total
    assert counts.lost == counts.duplicated == counts.out_of_order == counts.unmatched == 0, (
        counts.problems[:20]
    )
    assert counts.answered == counts.sent
    return counts


def _answered(burst: Burst, topology: ScaledTopology) -> int:
    return burst.answered(topology.sent())


def _wait_some_answered(burst: Burst, topology: ScaledTopology, at_least: int) -> int:
    """Until at least `at_least` texts of the burst are answered; how many are."""
    deadline = time.monotonic() + 120
    while (answered := _answered(burst, topology)) < at_least:
        assert time.monotonic() < deadline, f"only {answered} answered"
        time.sleep(0.2)
    return answered


def test_a_burst_is_answered_in_order_per_phone(
    topology: ScaledTopology, capsys: pytest.CaptureFixture
) -> None:
    """50 phones x 4 texts, one phone's 4 posted at the same moment: every text answered
    once, each phone's in the order the receiver accepted them."""
    phones = new_phones(50)
    burst = Burst(topology, phones, at_once=phones[0]).start()
    burst.join()
    _check("burst 50x4", burst, topology, capsys)


def test_a_worker_killed_mid_burst(topology: ScaledTopology, capsys: pytest.CaptureFixture) -> None:
    """kill -9 of worker-1 with turns in flight, then started again: its claims (row
    locks) die with its connections, worker-2 claims those texts again, and a turn that
    Rasa had already run is answered from the tracker, not run twice."""
    burst = Burst(topology, new_phones(PHONES), gap=GAP).start()
    _wait_some_answered(burst, topology, 12)
    topology.kill("worker-1")
    answered, acked = _answered(burst, topology), burst.acked
    assert answered < burst.total, "the kill came too late to prove anything"
    topology.restart("worker-1")
    burst.join()
    _check(f"worker-1 kill -9 at {acked} acked/{answered} answered", burst, topology, capsys)


def test_postgres_restarted_mid_burst(
    topology: ScaledTopology, capsys: pytest.CaptureFixture
) -> None:
    """pg_ctl restart (fast: every session is ended) while texts arrive and are answered:
    webhooks that met the restart are refused and posted again (as Plivo does), the
    workers' open turns roll back and are claimed again, LISTEN reconnects."""
    burst = Burst(topology, new_phones(PHONES), gap=GAP).start()
    _wait_some_answered(burst, topology, 12)
    acked = burst.acked
    topology.restart_postgres("fast")
    answered = _answered(burst, topology)
    assert acked < burst.total and answered < burst.total, "the restart came too late"
    burst.join()
    _check(f"postgres restart at {acked} acked/{answered} answered", burst, topology, capsys)


def test_redis_unavailable_for_a_while(
    topology: ScaledTopology, capsys: pytest.CaptureFixture
) -> None:
    """redis-server gone: texts are still acknowledged (200, first try) and wait in the
    queue, /health says degraded naming the lock store, /metrics answers; redis-server
    again on the same port: every text is answered once, in order."""
    topology.stop_redis()
    try:
        burst = Burst(topology, new_phones(10)).start()
        burst.join()
        assert burst.retried == 0, "texts must be acknowledged while Redis is down"
        status, health = topology.health()
        assert status == 200 and health["status"] == "degraded", health
        assert health["lock_store"] == "down", health
        assert str(topology.redis.port) in health["lock_store_redis"], health
        status, text = topology.metrics()
        assert status == 200 and "sms_inbound_queue_depth" in text
        time.sleep(5)  # the workers keep trying meanwhile
        assert _answered(burst, topology) == 0, "answered without the lock store?"
        _, health = topology.health()
        assert sum(health["inbound"].values()) >= burst.total, health
    finally:
        topology.start_redis()
    _check("redis down then back", burst, topology, capsys)
    status, health = topology.health()
    assert status == 200 and health["status"] == "ok" and health["lock_store"] == "ok", health


def test_a_rasa_server_killed_mid_burst(
    topology: ScaledTopology, capsys: pytest.CaptureFixture
) -> None:
    """kill -9 of rasa-1 with turns in flight: the workers ask rasa-2 (the turn a dead
    server had begun is run there or answered from the tracker); every text is answered
    while rasa-1 is still down; then rasa-1 is started again and answers."""
    burst = Burst(topology, new_phones(PHONES), gap=GAP).start()
    _wait_some_answered(burst, topology, 12)
    topology.kill("rasa-1")
    answered, acked = _answered(burst, topology), burst.acked
    assert answered < burst.total, "the kill came too late to prove anything"
    burst.join()
    try:
        _check(f"rasa-1 kill -9 at {acked} acked/{answered} answered", burst, topology, capsys)
        assert not topology.alive("rasa-1")
    finally:
        topology.restart("rasa-1")
    check = Burst(topology, new_phones(4)).start()
    check.join()
    _check("after rasa-1 restart", check, topology, capsys)
