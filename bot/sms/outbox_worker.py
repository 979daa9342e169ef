"""The outbox worker: sends queued SMS through Plivo, paced, retried, never twice.

Runs as a background task of each SMS worker process (bot/sms/worker.py). It claims rows
atomically, so several processes may run one each. A phone's rows go out one at a time in
the order they were queued: a row waiting for a retry holds back the later ones. A
retryable failure (429, 5xx, timeouts) is retried with backoff until the row is
OUTBOX_GIVE_UP_AFTER_SECONDS old.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
from collections import Counter
from typing import List, Optional, Set

from bot.settings import Settings
from bot.sms import metrics, outbox
from bot.sms.plivo_sender import PlivoSender, SendError
from bot.sms.rate_limit import RateLimiter
from bot.store.db import connection_scope, retry_if_disconnected, run_sync, session_scope
from bot.store.models import utcnow

logger = logging.getLogger(__name__)

LEASE = dt.timedelta(seconds=60)  # a `sending` row older than this had a dead worker


def backoff(attempts: int, base: float, cap: float) -> dt.timedelta:
    """Exponential backoff with jitter (0.5x-1.5x)."""
    delay = min(cap, base * (2 ** max(0, attempts - 1)))
    return dt.timedelta(seconds=delay * random.uniform(0.5, 1.5))


class OutboxWorker:
    def __init__(
        self,
        sender: PlivoSender,
        settings: Settings,
        concurrency: int = 8,
        poll_interval: float = 0.5,
    ) -> None:
        self.sender = sender
        self.settings = settings
        self.src = settings.plivo_number
        self.callback_url = settings.bot_public_url.rstrip("/") + "/webhooks/plivo/status"
        self.limiter = RateLimiter(settings.send_rate_per_second)
        self.slots = asyncio.Semaphore(concurrency)
        self.poll_interval = poll_interval
        self.in_flight: Counter = Counter()  # phone -> rows being delivered
        # Phones with a row queued behind one in flight: claimed when that one is done.
        self.waiting: Set[str] = set()
        self._wake = asyncio.Event()
        self._stopped = False
        self._tasks: Set[asyncio.Task] = set()

    def wake(self) -> None:
        self._wake.set()

    def take(self, rows: List[outbox.OutboxView]) -> None:
        """Rows this process just queued: those it claimed (`sending`) go out at once
        (no claim round trip); the rest wait for the claim loop."""
        for row in rows:
            # `sending` means nothing older of that phone waits or is in flight (checked
            # in the enqueuing transaction): the previous row may still be finishing here.
            if row.status == outbox.SENDING:
                self._start(row)
            elif row.status == outbox.QUEUED:
                self.waiting.add(row.phone)
                self.wake()

    def _start(self, row: outbox.OutboxView) -> None:
        self.in_flight[row.phone] += 1
        task = asyncio.create_task(self._deliver(row))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        self._stopped = True
        self._wake.set()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def run(self) -> None:
        logger.info(
            "outbox worker started (%.1f msg/s from %s)",
            self.limiter.interval and 1 / self.limiter.interval or 0,
            self.src,
        )
        last_reclaim = 0.0
        loop = asyncio.get_running_loop()
        while not self._stopped:
            try:
                if loop.time() - last_reclaim > 10:
                    last_reclaim = loop.time()
                    reclaimed = await run_sync(self._reclaim)
                    if reclaimed:
                        logger.warning(
                            "re-queued %d messages left `sending` by a dead worker", reclaimed
                        )
                for row in await run_sync(self._claim):
                    self._start(row)
            except Exception:  # noqa: BLE001 - the worker must survive a database outage
                logger.exception("outbox worker loop failed; retrying")
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)
            except asyncio.TimeoutError:
                pass

    def _reclaim(self) -> int:
        with session_scope(durable=False) as session:
            return outbox.reclaim_stale(session, LEASE)

    def _claim(self) -> list:
        free = max(0, 32 - len(self.in_flight))
        if not free:
            return []
        with session_scope(durable=False) as session:
            return outbox.claim_due(session, limit=free, busy_phones=list(self.in_flight))

    async def _deliver(self, row: outbox.OutboxView) -> None:
        try:
            async with self.slots:
                await self._deliver_one(row)
        except Exception:  # noqa: BLE001
            logger.exception("delivering outbox row %s failed; it stays queued", row.id)
            await run_sync(self._retry, row, "internal error", False)
        finally:
            self.in_flight[row.phone] -= 1
            if self.in_flight[row.phone] <= 0:
                del self.in_flight[row.phone]
            if row.phone in self.waiting:  # else the claim loop has nothing new to find
                self.waiting.discard(row.phone)
                self.wake()

    async def _deliver_one(self, row: outbox.OutboxView) -> None:
        if row.ambiguous:
            adopted = await asyncio.to_thread(self._find_accepted, row)
            if adopted:
                await run_sync(self._mark, outbox.mark_sent, row.id, adopted)
                logger.info("outbox %s was already accepted as %s; not resending", row.id, adopted)
                return
        await self.limiter.acquire(self.src)
        try:
            uuid = await asyncio.to_thread(
                self.sender.send, self.src, row.phone, row.text, self.callback_url
            )
        except SendError as error:
            too_old = self._too_old(row)
            metrics.count_send_failure(final=too_old or not error.retryable)
            if error.retryable and not too_old:
                logger.warning(
                    "outbox %s attempt %d failed (%s); will retry", row.id, row.attempts, error
                )
                await run_sync(self._retry, row, str(error), error.ambiguous)
            else:
                if too_old:
                    error = SendError(
                        f"given up after {self.settings.outbox_give_up_after_seconds:.0f} s "
                        f"and {row.attempts} attempts: {error}",
                        retryable=False,
                        code=error.code,
                    )
                logger.error("outbox %s failed for good: %s", row.id, error)
                await run_sync(self._mark, outbox.mark_failed, row.id, str(error), error.code)
            return
        await run_sync(self._mark, outbox.mark_sent, row.id, uuid)

    def _too_old(self, row: outbox.OutboxView) -> bool:
        """Retried long enough (OUTBOX_GIVE_UP_AFTER_SECONDS since it was queued)."""
        if row.created_at is None:
            return False
        age = (utcnow() - row.created_at).total_seconds()
        return age >= self.settings.outbox_give_up_after_seconds

    def _find_accepted(self, row: outbox.OutboxView) -> Optional[str]:
        since = (row.created_at or dt.datetime.utcnow()) - dt.timedelta(minutes=1)
        try:
            uuids = self.sender.accepted_since(self.src, row.phone, since)
        except SendError as error:
            logger.warning("could not check whether outbox %s was accepted: %s", row.id, error)
            raise
        with session_scope() as session:
            known = outbox.known_uuids(session, uuids)
        unknown = [u for u in uuids if u not in known]
        return unknown[-1] if unknown else None

    @staticmethod
    def _mark(fn, *args) -> None:  # noqa: ANN001
        def mark() -> None:
            with connection_scope(durable=False) as session:
                fn(session, *args)

        retry_if_disconnected(mark)

    def _retry(self, row: outbox.OutboxView, error: str, ambiguous: bool) -> None:
        delay = backoff(
            row.attempts,
            self.settings.outbox_retry_base_seconds,
            self.settings.outbox_retry_cap_seconds,
        )
        with connection_scope(durable=False) as session:
            outbox.mark_retry(session, row.id, error, delay, ambiguous)
