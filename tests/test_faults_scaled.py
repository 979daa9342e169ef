"""Faults on the production topology (deploy/Procfile: 2 Rasa servers, 2 SMS workers, the
receiver, actions, desk, the Plivo stand-in) on a private PostgreSQL and Redis.

Each test sends a burst of texts (tests/sms_burst.py), injects one fault in the middle of
it and prints the counts of texts sent, answered, lost, duplicated and answered out of
order (tests/sms_counts.py); lost, duplicated, out of order (and replies that answer no
text, e.g. an apology instead of the answer) must be 0; a test that expects the polite
apology for some texts (the action server killed) counts those apart. One topology
serves the module; each test leaves it healthy for the next. Another fault is a few
lines: start a Burst, wait for some answers, inject it (`topology.kill/restart`,
`fail(...)`, ...), then `_check(...)`.

    .venv/bin/python -m pytest tests/test_faults_scaled.py -s
"""

from __future__ import annotations

import shutil
import time
import uuid as uuidlib
from pathlib import Path
from typing import Dict, Iterator, List

import pytest

from bot.sms.conversation import ASSISTANT_ERROR, ASSISTANT_ERROR_REPLY
from bot.store.seed import ALEX, PRIYA
from tests.pg_statements import BIN as POSTGRES_BIN
from tests.scaled_topology import ScaledTopology
from tests.sms_burst import Burst, new_phones
from tests.sms_counts import Counts, SentText

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
    """Wait for the answers, print the counts, assert nothing lost, doubled or reordered
    (apologies only where the burst expects them: `Burst.apology`)."""
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


def _outbox(topology: ScaledTopology, phones: List[str]) -> List[tuple]:
    """(status, attempts) of every outbox row to these phones."""
    return topology.query(
        "SELECT status, attempts FROM outbox WHERE phone IN :phones", phones=phones
    )


def _handoffs(topology: ScaledTopology, phones: List[str]) -> Dict[str, List[str]]:
    """phone -> the reasons of its handoff rows (phones without any left out)."""
    rows = topology.query(
        "SELECT phone, reason FROM handoff_requests WHERE phone IN :phones ORDER BY id",
        phones=phones,
    )
    found: Dict[str, List[str]] = {}
    for phone, reason in rows:
        found.setdefault(phone, []).append(reason)
    return found


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


SMS_API_OUTAGE = 45.0  # seconds; the topology's backoff cap is 4 s (tests/scaled_topology.py)


def test_the_sms_api_answering_503_for_a_while(
    topology: ScaledTopology, capsys: pytest.CaptureFixture
) -> None:
    """The Plivo stand-in answers 503 to every send for 45 s while texts arrive: they are
    acknowledged and answered into the outbox, where the replies wait and are retried
    (none given up); once the API answers again each reply goes out once, in order."""
    burst = Burst(topology, new_phones(PHONES), gap=GAP).start()
    _wait_some_answered(burst, topology, 12)
    topology.fail(status=503, seconds=SMS_API_OUTAGE + 120)  # cleared below, or expires
    began = time.monotonic()
    try:
        answered, acked = _answered(burst, topology), burst.acked
        assert acked < burst.total and answered < burst.total, "the outage came too late"
        time.sleep(5)  # a send already under way when the outage began has finished
        handed_over = len(topology.sent())
        # meanwhile the replies wait in the outbox and are retried, nothing goes out
        deadline = began + SMS_API_OUTAGE - 5
        waiting: List[tuple] = []  # (status, attempts) of replies not handed over yet
        while time.monotonic() < deadline:
            rows = _outbox(topology, burst.phones)
            waiting = [r for r in rows if r[0] not in ("sent", "delivered")]
            if waiting and max(attempts for _, attempts in waiting) >= 3:
                break
            time.sleep(1)
        assert waiting and max(attempts for _, attempts in waiting) >= 3, waiting
        assert {status for status, _ in waiting} <= {"queued", "sending"}, waiting  # none failed
        time.sleep(max(0.0, began + SMS_API_OUTAGE - time.monotonic()))
        assert len(topology.sent()) == handed_over, "sent while the API answered 503"
    finally:
        topology.clear_failures()
    burst.join()
    counts = _check(
        f"SMS API 503 for {SMS_API_OUTAGE:.0f} s from {acked} acked/{answered} answered",
        burst,
        topology,
        capsys,
    )
    rows = _outbox(topology, burst.phones)
    with capsys.disabled():
        print(
            f"  {len(waiting)} replies waited, up to {max(a for _, a in rows)} attempts; "
            f"all answered {time.monotonic() - began:.0f} s after the outage began"
        )
    assert len(rows) == counts.sent
    assert {status for status, _ in rows} <= {"sent", "delivered"}, "failed or still queued"
    assert counts.apologies == 0


# (text, the key its proper answer repeats, whether it needs a custom action)
ACTION_TEXTS = [
    ("where is order A1003", "A1003", True),  # action_track_order (not found: still named)
    ("I need a human", "person", True),  # the handoff action ("... to a person ...")
    ("is there parking", "parking", True),  # the FAQ action
    ("menu", "I can:", False),  # a response, no custom action
]


def test_the_action_server_killed_mid_burst(
    topology: ScaledTopology, capsys: pytest.CaptureFixture
) -> None:
    """kill -9 of actions-1 while texts that need custom actions arrive (one per phone):
    each text gets exactly one reply, the polite apology when its action could not run
    (and one handoff, reason assistant_error), the proper answer otherwise; no other
    process falls over; actions-1 started again answers as before."""
    phones = [ALEX] + new_phones(23)
    texts: Dict[str, List[SentText]] = {}
    needs_action = set()
    for i, phone in enumerate(phones):
        text, key, action = ACTION_TEXTS[i % len(ACTION_TEXTS)]
        if phone == ALEX:
            text, key = "where is order A1001", "A1001"  # a seeded order: shipped with UPS
        texts[phone] = [SentText(key, text, str(uuidlib.uuid4()))]
        if action:
            needs_action.add(texts[phone][0].uuid)
    burst = Burst(topology, phones, texts=texts, stagger=0.5, apology=ASSISTANT_ERROR_REPLY)
    burst.start()
    _wait_some_answered(burst, topology, 4)
    topology.kill("actions-1")
    answered, acked = _answered(burst, topology), burst.acked
    assert acked < burst.total, "the kill came too late to prove anything"
    burst.join()
    try:
        counts = _check(
            f"actions-1 kill -9 at {acked} acked/{answered} answered", burst, topology, capsys
        )
        apologized = set(counts.apologized)
        after_kill = set(burst.acked_uuids[acked:]) & needs_action
        with capsys.disabled():
            print(
                f"  {len(needs_action)} texts needed an action: {counts.apologies} apologies "
                f"({len(after_kill)} sent after the kill), the rest answered"
            )
        assert after_kill and after_kill <= apologized, "an action ran without its server"
        assert apologized <= needs_action, "an apology for a text that needs no action"
        assert counts.apologies == len(apologized)  # one per text, never two
        handed_off = _handoffs(topology, phones)
        uuid_phone = {t.uuid: phone for phone, sent in texts.items() for t in sent}
        for uuid in apologized:
            assert handed_off.get(uuid_phone[uuid]) == [ASSISTANT_ERROR], uuid_phone[uuid]
        errors = [p for p, reasons in handed_off.items() if ASSISTANT_ERROR in reasons]
        assert len(errors) == counts.apologies, handed_off
        # nothing else fell over: both Rasa servers, the receiver and the workers
        topology.wait_healthy(["rasa-1", "rasa-2", "receiver-1"], timeout=10)
        status, health = topology.health()
        assert status == 200 and health["status"] == "ok", health
        for name in ("worker-1", "worker-2", "rasa-1", "rasa-2", "receiver-1"):
            assert topology.alive(name) and topology.pidfile_alive(name), name
        assert not topology.alive("actions-1")
    finally:
        topology.restart("actions-1")
    (fresh,) = new_phones(1)
    reply = topology.ask(fresh, "where is order A1004", timeout=60)
    assert "A1004" in reply and reply != ASSISTANT_ERROR_REPLY, reply
    reply = topology.ask(PRIYA, "wheres my order C3002", timeout=60)
    assert "C3002" in reply and "FedEx" in reply, reply
    assert _handoffs(topology, [fresh, PRIYA]) == {}
