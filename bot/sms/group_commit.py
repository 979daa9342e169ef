"""Group commit: what arrives while one transaction is written goes in the next one.

The webhook receiver on an SQLite file writes every recorded text with an fsync, and every
writer of every process takes turns on the file (bot.store.db._WriterQueue). One webhook per
transaction made acknowledgements wait in line behind each other's fsyncs and behind
writer turns; here one thread writes whatever is waiting in one transaction (one turn,
one fsync), so a burst costs a few transactions instead of one per webhook.

A unit of work takes the shared connection. It may refuse with `Refused` (a replayed
nonce, say) only before it has written anything: SQLite backs out just the failed
statement, and the others' writes stay. Any other error rolls the whole batch back, and
each unit of it is then written in a transaction of its own, so one bad unit never
decides another's outcome.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from dataclasses import dataclass
from typing import Any, Callable, List, Optional, Tuple

from sqlalchemy.engine import Connection

from bot.store.db import connection_scope

logger = logging.getLogger(__name__)

Work = Callable[[Connection], Any]


class Refused(Exception):
    """A unit of work declines before writing anything; its batch goes on."""


@dataclass
class _Unit:
    work: Work
    durable: bool
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future


Outcome = Tuple[bool, Any]  # (succeeded, result or exception)


class GroupCommit:
    """One writer thread for one database URL (started on first use)."""

    def __init__(self, url: Optional[str] = None, max_batch: int = 64) -> None:
        self.url = url
        self.max_batch = max_batch
        self._queue: "queue.SimpleQueue[_Unit]" = queue.SimpleQueue()
        self._thread: Optional[threading.Thread] = None
        self._start_lock = threading.Lock()
        self.batches = 0  # transactions written (tests, logs)

    async def write(self, work: Work, durable: bool = True) -> Any:
        """Run `work(connection)` in the next batch; its result, or what it raised."""
        loop = asyncio.get_running_loop()
        unit = _Unit(work, durable, loop, loop.create_future())
        self._ensure_thread()
        self._queue.put(unit)
        return await unit.future

    def _ensure_thread(self) -> None:
        if self._thread is not None:
            return
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            for unit, outcome in zip(batch, self._write(batch), strict=True):
                try:
                    unit.loop.call_soon_threadsafe(_settle, unit.future, outcome)
                except RuntimeError:  # its event loop is closed: nobody waits any more
                    pass

    def _write(self, batch: List[_Unit]) -> List[Outcome]:
        try:
            outcomes = self._in_one_transaction(batch)
            self.batches += 1
            return outcomes
        except Exception as error:  # noqa: BLE001 - every unit gets its own answer below
            if len(batch) == 1:
                return [(False, error)]
            logger.warning("a batch of %d writes failed (%r): one at a time", len(batch), error)
            return [self._write([unit])[0] for unit in batch]

    def _in_one_transaction(self, batch: List[_Unit]) -> List[Outcome]:
        outcomes: List[Outcome] = []
        durable = any(unit.durable for unit in batch)
        with connection_scope(self.url, durable=durable) as connection:
            for unit in batch:
                try:
                    outcomes.append((True, unit.work(connection)))
                except Refused as refusal:
                    outcomes.append((False, refusal))
        return outcomes


def _settle(future: asyncio.Future, outcome: Outcome) -> None:
    if future.cancelled():
        return
    succeeded, value = outcome
    if succeeded:
        future.set_result(value)
    else:
        future.set_exception(value)
