"""Operations figures: `/metrics` (Prometheus text) and `/health` (the same figures as JSON).

Counted by the processes that do the work (call these, they are cheap):
    observe_turn(seconds)     one inbound text answered: claim to reply queued (the worker)
    count_send_failure(final) one failed attempt to hand an SMS to Plivo (the outbox)

Read from the database at scrape time, one query each, by whoever serves the routes:
inbound queue depth (`messages` received/processing) and outbox backlog (queued/sending),
each with the age of its oldest row; scheduled outbound texts (`outbound_texts`) and how
late the most overdue of them is (a few poll intervals at most while a worker runs).

Several processes on one machine (two SMS workers, the receiver, the desk): with
PROMETHEUS_MULTIPROC_DIR set (deploy/scaled.env: var/run/prometheus, emptied by `make
run-scaled` before the processes start), every process writes its counters to files there
and any process serving /metrics sums them all: the workers need no port of their own.
Without it (`make run`, tests) the counters are those of the serving process.
`add_routes(app, folder)` puts both routes on a Sanic app (the receiver, the desk); `folder`
is Settings.prometheus_multiproc_dir (prometheus_client reads the same variable itself to
write the counter files). Given the Rasa servers' Redis lock store (the receiver, when
REDIS_HOST is set), /health also pings it: while it does not answer, the status is
`degraded` with `"lock_store": "down"`, still 200 (texts are recorded and wait in the
queue; the Rasa servers cannot answer them).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

import redis
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy import func, select

from bot.store.db import run_sync, session_scope
from bot.store.models import Message, OutboundText, OutboxMessage

INBOUND_WAITING = ("received", "processing")
OUTBOX_WAITING = ("queued", "sending")
# Turns take ~10 ms when idle and seconds when the assistant is saturated.
TURN_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, float("inf"))

_REGISTRY = CollectorRegistry(auto_describe=True)
TURN_SECONDS = Histogram(
    "sms_turn_seconds",
    "Seconds from asking the assistant about a claimed text to its reply being queued.",
    buckets=TURN_BUCKETS,
    registry=_REGISTRY,
)
SEND_FAILURES = Counter(
    "sms_send_failures",
    "Failed attempts to hand an SMS to Plivo (outcome: retry or failed for good).",
    ["outcome"],
    registry=_REGISTRY,
)


def observe_turn(seconds: float) -> None:
    """Record how long one inbound text took to answer."""
    TURN_SECONDS.observe(seconds)


def count_send_failure(final: bool = False) -> None:
    """Count one failed send attempt (`final`: it will not be retried)."""
    SEND_FAILURES.labels(outcome="failed" if final else "retry").inc()


def _waiting(model: Any, statuses: Tuple[str, ...]) -> Dict[str, Tuple[int, float]]:
    """{status: (rows, age in seconds of the oldest)} for rows in these statuses."""
    query = (
        select(model.status, func.count(), func.min(model.created_at))
        .where(model.status.in_(statuses))
        .group_by(model.status)
    )
    now = dt.datetime.utcnow()
    found = {status: (0, 0.0) for status in statuses}
    with session_scope(durable=False) as session:
        for status, count, oldest in session.execute(query):
            found[status] = (int(count), max(0.0, (now - oldest).total_seconds()))
    return found


def _scheduled() -> Dict[str, Tuple[int, float]]:
    """{"scheduled": (texts, seconds the most overdue one is late, 0 if none is due)}."""
    now = dt.datetime.utcnow()
    query = select(func.count(), func.min(OutboundText.not_before)).where(
        OutboundText.status == "scheduled"
    )
    with session_scope(durable=False) as session:
        count, earliest = session.execute(query).one()
    overdue = max(0.0, (now - earliest).total_seconds()) if earliest else 0.0
    return {"scheduled": (int(count), overdue)}


def database_figures() -> Dict[str, Dict[str, Tuple[int, float]]]:
    """Inbound queue depth, outbox backlog, scheduled outbound texts (three queries)."""
    return {
        "inbound": _waiting(Message, INBOUND_WAITING),
        "outbox": _waiting(OutboxMessage, OUTBOX_WAITING),
        "outbound": _scheduled(),
    }


def _gauges(figures: Dict[str, Dict[str, Tuple[int, float]]]) -> List[Metric]:
    """The database figures as Prometheus gauge families."""
    depth = GaugeMetricFamily(
        "sms_inbound_queue_depth", "Inbound texts waiting or being answered.", labels=["status"]
    )
    depth_age = GaugeMetricFamily(
        "sms_inbound_oldest_seconds", "Age of the oldest inbound text by status.", labels=["status"]
    )
    backlog = GaugeMetricFamily(
        "sms_outbox_backlog", "Outgoing SMS not yet handed to Plivo.", labels=["status"]
    )
    backlog_age = GaugeMetricFamily(
        "sms_outbox_oldest_seconds", "Age of the oldest outgoing SMS by status.", labels=["status"]
    )
    for status, (count, age) in figures["inbound"].items():
        depth.add_metric([status], count)
        depth_age.add_metric([status], age)
    for status, (count, age) in figures["outbox"].items():
        backlog.add_metric([status], count)
        backlog_age.add_metric([status], age)
    count, overdue = figures.get("outbound", {}).get("scheduled", (0, 0.0))
    scheduled = GaugeMetricFamily(
        "sms_outbound_scheduled", "Business-started texts waiting for their time.", value=count
    )
    late = GaugeMetricFamily(
        "sms_outbound_overdue_seconds",
        "How late the most overdue scheduled text is (0: none is due).",
        value=overdue,
    )
    return [depth, depth_age, backlog, backlog_age, scheduled, late]


class _Scrape:
    """One scrape's collectors: the counters (this process's or all processes') + gauges."""

    def __init__(
        self, figures: Dict[str, Dict[str, Tuple[int, float]]], folder: Optional[str]
    ) -> None:
        self.counters: Any = MultiProcessCollector(None, folder) if folder else _REGISTRY
        self.figures = figures

    def collect(self) -> Iterable[Metric]:
        """Every metric family of this scrape."""
        yield from self.counters.collect()
        yield from _gauges(self.figures)


def render(figures: Dict[str, Dict[str, Tuple[int, float]]], folder: Optional[str] = None) -> bytes:
    """The Prometheus text exposition of the counters (all processes' with a shared
    counter `folder`, else this process's) and these database figures."""
    return generate_latest(_Scrape(figures, folder))  # type: ignore[arg-type]


def counter_figures(folder: Optional[str] = None) -> Dict[str, Any]:
    """The counters as plain numbers (for /health): turns and send failures."""
    empty: Dict[str, Dict[str, Tuple[int, float]]] = {"inbound": {}, "outbox": {}}
    families = {m.name: m for m in _Scrape(empty, folder).counters.collect()}
    failures = {"retry": 0.0, "failed": 0.0}
    turns = {"count": 0.0, "sum_seconds": 0.0}
    for sample in getattr(families.get("sms_send_failures"), "samples", []):
        if sample.name == "sms_send_failures_total":
            failures[sample.labels["outcome"]] += sample.value
    for sample in getattr(families.get("sms_turn_seconds"), "samples", []):
        if sample.name == "sms_turn_seconds_count":
            turns["count"] += sample.value
        elif sample.name == "sms_turn_seconds_sum":
            turns["sum_seconds"] += sample.value
    return {"send_failures": failures, "turns": turns}


def health_figures(
    figures: Dict[str, Dict[str, Tuple[int, float]]], folder: Optional[str] = None
) -> Dict[str, Any]:
    """The /health body: the same figures as /metrics, as JSON."""
    body: Dict[str, Any] = {"status": "ok"}
    for part, by_status in figures.items():
        body[part] = {status: count for status, (count, _age) in by_status.items()}
        age_name = "overdue_seconds" if part == "outbound" else "oldest_seconds"
        body[f"{part}_{age_name}"] = {
            status: round(age, 3) for status, (_count, age) in by_status.items()
        }
    body.update(counter_figures(folder))
    return body


async def metrics_route(folder: Optional[str], _request: Request) -> HTTPResponse:
    """GET /metrics: Prometheus text format; 503 if the database does not answer."""
    try:
        figures = await run_sync(database_figures)
    except Exception:  # noqa: BLE001 - a scrape must say the database is down, not crash
        return response.text("database unavailable\n", status=503)
    return HTTPResponse(render(figures, folder), content_type=CONTENT_TYPE_LATEST)


def redis_answers(host: str, port: int, timeout: float = 1.0) -> bool:
    """Whether the Redis server at host:port answers PING within `timeout` seconds."""
    client = redis.Redis(
        host=host, port=port, socket_timeout=timeout, socket_connect_timeout=timeout
    )
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


async def health_route(
    folder: Optional[str],
    lock_store: Optional[Tuple[str, int]],
    _request: Request,
    extra: Optional[Callable[[], Dict[str, Any]]] = None,
) -> HTTPResponse:
    """GET /health: the same figures as JSON (plus `extra()`'s, read from the database too);
    503 with status `degraded` if the database is down; status `degraded` (200) if the lock
    store's Redis (host, port) does not answer."""
    try:
        figures = await run_sync(database_figures)
        more = await run_sync(extra) if extra is not None else {}
    except Exception:  # noqa: BLE001
        return response.json({"status": "degraded", "database": "down"}, status=503)
    body = health_figures(figures, folder)
    body.update(more)
    if lock_store is not None:
        up = await run_sync(redis_answers, *lock_store)
        body["lock_store"] = "ok" if up else "down"
        if not up:
            body["status"] = "degraded"
            body["lock_store_redis"] = f"{lock_store[0]}:{lock_store[1]} unreachable"
    return response.json(body)


def add_routes(
    app: Sanic,
    folder: Optional[str],
    lock_store: Optional[Tuple[str, int]] = None,
    extra_health: Optional[Callable[[], Dict[str, Any]]] = None,
    **route_options: Any,
) -> None:
    """Serve GET /metrics and GET /health on `app`, counting the counter files of `folder`
    (Settings.prometheus_multiproc_dir) if set (options: e.g. the desk's ctx_public);
    `lock_store`: the (host, port) of the Redis that /health checks too; `extra_health`:
    more /health fields (blocking: run off the event loop)."""

    async def metrics(request: Request) -> HTTPResponse:
        return await metrics_route(folder, request)

    async def health(request: Request) -> HTTPResponse:
        return await health_route(folder, lock_store, request, extra_health)

    app.add_route(metrics, "/metrics", methods=["GET"], name="ops_metrics", **route_options)
    app.add_route(health, "/health", methods=["GET"], name="ops_health", **route_options)
