"""The release loop: due scheduled texts into the outbox, run inside each SMS worker.

PostgreSQL: one transaction locks up to a batch of due texts (FOR UPDATE SKIP LOCKED), so
two workers take different ones. SQLite (one writer per file): a read finds due texts,
then each is released in a transaction of its own whose first statement is the
conditional UPDATE. Either way a text leaves `scheduled` once, so it is queued once, and
what was scheduled before a crash or restart is still in the table afterwards.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Callable, List

from bot.outbound import service
from bot.settings import Settings
from bot.sms.outbox import OutboxView
from bot.store.db import get_engine, run_sync, session_scope

logger = logging.getLogger(__name__)

BATCH = 50


class ReleaseLoop:
    def __init__(self, settings: Settings, on_queued: Callable[[List[OutboxView]], None]) -> None:
        self.url = settings.database_url
        self.interval = settings.outbound_poll_seconds
        self.on_queued = on_queued  # the worker's outbox sender: send them now
        self._stopped = asyncio.Event()

    def release_round(self) -> List[OutboxView]:
        """Release what is due now; the rows queued in the outbox."""
        if get_engine(self.url).dialect.name == "postgresql":
            with session_scope(self.url, durable=False) as session:
                return service.release_due_postgres(session, BATCH)
        with session_scope(self.url, durable=False) as session:
            ids = service.due_ids(session, BATCH)
        queued = []
        for text_id in ids:
            with session_scope(self.url, durable=False) as session:
                row = service.release(session, text_id)
            if row is not None:
                queued.append(row)
        return queued

    async def run(self) -> None:
        """Until stop(); a failed round (e.g. the database is down) is logged and retried."""
        while not self._stopped.is_set():
            try:
                queued = await run_sync(self.release_round)
                if queued:
                    logger.info("released %d scheduled texts into the outbox", len(queued))
                    self.on_queued(queued)
                    continue  # maybe more due than one batch
            except Exception:  # noqa: BLE001 - the worker must survive a database outage
                logger.exception("releasing scheduled texts failed; retrying")
            try:
                await asyncio.wait_for(self._stopped.wait(), self.interval)
            except asyncio.TimeoutError:
                pass

    def stop(self) -> None:
        self._stopped.set()
