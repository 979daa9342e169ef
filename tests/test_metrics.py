"""/metrics and /health on a running SMS receiver (PostgreSQL): Prometheus text that
prometheus_client's parser reads, database figures that follow the rows, and counters that
other processes wrote (multiprocess mode, as in deploy/scaled.env)."""

from __future__ import annotations

import datetime as dt
import json
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Dict, Iterator, Tuple

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.launcher import child_env, free_port, wait_http
from bot.settings import PROJECT_ROOT
from bot.sms import metrics
from bot.store.db import session_scope
from bot.store.migrate import upgrade
from bot.store.models import Conversation, Message, OutboundText, OutboxMessage
from tests.conftest import _reset

pytestmark = pytest.mark.postgres

RECEIVER_MODULE = "bot.sms.receiver"
PLIVO_ENV = {
    "PLIVO_AUTH_ID": "MADEVSTANDIN00000000",
    "PLIVO_AUTH_TOKEN": "local-dev-token",
    "PLIVO_NUMBER": "+15005550100",
    "PLIVO_API_URL": "http://127.0.0.1:9",  # nothing is sent in these tests
}
Samples = Dict[Tuple[str, Tuple[Tuple[str, str], ...]], float]


def scrape(url: str) -> Samples:
    """GET /metrics, parsed by prometheus_client: {(sample name, labels): value}."""
    with urllib.request.urlopen(url + "/metrics", timeout=10) as answer:
        assert answer.headers["Content-Type"].startswith("text/plain")
        text = answer.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def health(url: str) -> dict:
    """GET /health as JSON."""
    with urllib.request.urlopen(url + "/health", timeout=10) as answer:
        return json.loads(answer.read())


@pytest.fixture
def receiver(postgres_url: str, tmp_path: Path) -> Iterator[str]:
    """A receiver on a fresh database, with counters another process already wrote."""
    upgrade(postgres_url)
    _reset(postgres_url)
    # No worker runs here: the texts we add stay in the queue. The silent socket stands in
    # for an assistant that never answers.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)
    counters = tmp_path / "prometheus"
    counters.mkdir()
    env = child_env(
        {
            **PLIVO_ENV,
            "DATABASE_URL": postgres_url,
            "PROMETHEUS_MULTIPROC_DIR": str(counters),
            "RASA_URL": f"http://127.0.0.1:{silent.getsockname()[1]}",
        }
    )
    worker_counts = (
        "from bot.sms import metrics\n"
        "metrics.observe_turn(0.2); metrics.observe_turn(0.04)\n"
        "metrics.count_send_failure(); metrics.count_send_failure(final=True)\n"
    )
    subprocess.run([sys.executable, "-c", worker_counts], env=env, cwd=PROJECT_ROOT, check=True)
    port = free_port()
    with open(tmp_path / "receiver.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", RECEIVER_MODULE, "--port", str(port)],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/health", timeout=60, proc=proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        silent.close()


def add_rows(url: str) -> None:
    """Two texts waiting, one being answered; outbox: one queued, one sending, one sent;
    two scheduled outbound texts, one of them 30 s overdue."""
    now = dt.datetime.utcnow()
    later = now + dt.timedelta(hours=1)  # not due: the outbox leaves it alone
    with session_scope(url) as session:
        conversation = Conversation(phone="+15005550999")
        session.add(conversation)
        session.flush()
        cid = conversation.id
        for n, status in enumerate(("received", "received", "processing")):
            session.add(
                Message(
                    conversation_id=cid,
                    direction="in",
                    author="customer",
                    text=f"hello {n}",
                    provider_uuid=f"metrics-test-{n}",
                    status=status,
                    claimed_at=now if status == "processing" else None,
                    created_at=now - dt.timedelta(seconds=30),
                )
            )
        for due in (now - dt.timedelta(seconds=30), later):  # overdue (no worker), not due
            session.add(
                OutboundText(
                    phone="+15005550999",
                    kind="survey",
                    body="How was it?",
                    idempotency_key=f"metrics-{due.isoformat()}",
                    status="scheduled",
                    not_before=due,
                )
            )
        for status in ("queued", "sending", "sent"):
            session.add(
                OutboxMessage(
                    phone="+15005550999",
                    text="hi",
                    encoding="GSM-7",
                    segments=1,
                    status=status,
                    next_attempt_at=later,
                    last_attempt_at=now,
                )
            )


def test_metrics_follow_the_database_and_sum_every_process(
    receiver: str, postgres_url: str
) -> None:
    before = scrape(receiver)
    depth = "sms_inbound_queue_depth"
    assert before[(depth, (("status", "received"),))] == 0
    assert before[(depth, (("status", "processing"),))] == 0
    assert before[("sms_outbox_backlog", (("status", "queued"),))] == 0
    # counters written by another process (a worker), summed by the receiver
    assert before[("sms_turn_seconds_count", ())] == 2
    assert before[("sms_turn_seconds_sum", ())] == pytest.approx(0.24)
    assert before[("sms_turn_seconds_bucket", (("le", "0.05"),))] == 1
    assert before[("sms_send_failures_total", (("outcome", "retry"),))] == 1
    assert before[("sms_send_failures_total", (("outcome", "failed"),))] == 1

    add_rows(postgres_url)
    after = scrape(receiver)
    waiting = after[(depth, (("status", "received"),))]
    answering = after[(depth, (("status", "processing"),))]
    assert waiting + answering == 3 and answering >= 1
    assert after[("sms_inbound_oldest_seconds", (("status", "processing"),))] >= 25
    assert after[("sms_outbox_backlog", (("status", "queued"),))] == 1
    assert after[("sms_outbox_backlog", (("status", "sending"),))] == 1

    assert after[("sms_outbound_scheduled", ())] == 2
    assert after[("sms_outbound_overdue_seconds", ())] >= 25  # one due 30 s ago

    body = health(receiver)
    assert body["status"] == "ok"
    assert body["outbound"] == {"scheduled": 2}
    assert body["outbound_overdue_seconds"]["scheduled"] >= 25
    assert sum(body["inbound"].values()) == 3
    assert body["outbox"] == {"queued": 1, "sending": 1}
    assert body["send_failures"] == {"retry": 1, "failed": 1}
    assert body["turns"]["count"] == 2


def test_render_in_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    before = metrics.counter_figures()
    metrics.count_send_failure(final=True)
    metrics.observe_turn(0.5)
    figures = {"inbound": {"received": (4, 12.0)}, "outbox": {"queued": (2, 3.0)}}
    families = {f.name: f for f in text_string_to_metric_families(metrics.render(figures).decode())}
    assert families["sms_inbound_queue_depth"].samples[0].value == 4
    assert families["sms_outbox_oldest_seconds"].samples[0].value == 3.0
    after = metrics.counter_figures()
    assert after["send_failures"]["failed"] == before["send_failures"]["failed"] + 1
    assert after["turns"]["count"] == before["turns"]["count"] + 1
    assert metrics.health_figures(figures)["inbound"] == {"received": 4}
