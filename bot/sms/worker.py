"""The SMS worker: claims inbound texts per conversation in order, runs the turns, sends.

    python -m bot.sms.worker --rasa-url URL [--rasa-url URL2 ...] [--concurrency N]

N turns at once. Which text may be claimed is decided by the database (bot/sms/queue.py),
never by a lock in this process, so several workers may run side by side on PostgreSQL
(on SQLite, the embedded default, run one). Woken by PostgreSQL's NOTIFY on `sms_inbound`
(bot/sms/listener.py); polls every SMS_POLL_SECONDS without it (SQLite, or while the
listening connection is down). Also runs the outbox sender, releases due scheduled
outbound texts into the outbox (bot/outbound/scheduler.py) and forgets old webhook nonces.
While every Rasa server is unreachable it backs off: texts stay queued, nothing is lost.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import time
from typing import List, Optional, Sequence, Set

from bot.outbound.scheduler import ReleaseLoop
from bot.settings import Settings, settings_or_exit
from bot.sms import inbound, metrics
from bot.sms.conversation import AskBot, BotUnavailable, ask_assistant
from bot.sms.listener import Listener
from bot.sms.outbox_worker import OutboxWorker
from bot.sms.plivo_front_door import plivo_settings
from bot.sms.plivo_sender import PlivoSender
from bot.sms.plivo_webhook import forget_old_nonces
from bot.sms.rasa_asker import RasaAsker
from bot.sms.turns import (
    Turn,
    abort_postgres,
    abort_sqlite,
    begin_postgres,
    begin_sqlite,
    end_postgres,
    end_sqlite,
)
from bot.store.db import (
    connection_scope,
    get_engine,
    retry_if_disconnected,
    run_sync,
    use_database,
    without_pre_ping,
)

logger = logging.getLogger(__name__)

SAFETY_POLL_SECONDS = 10.0  # with LISTEN: a claim round anyway, for a lost notification
SQLITE_POLL_SECONDS = 0.2  # an idle SQLite poll is one read, no write lock
NONCE_SWEEP_SECONDS = 60.0
DRAIN_SECONDS = 20.0


class InboundWorker:
    """The claim loop and the turns in flight of one worker process."""

    def __init__(
        self, settings: Settings, ask_bot: AskBot, concurrency: int, sender: OutboxWorker
    ) -> None:
        self.settings = settings
        self.ask_bot = ask_bot
        self.concurrency = concurrency
        self.sender = sender
        self.postgres = get_engine(settings.database_url).dialect.name == "postgresql"
        self.budget = settings.sms_segment_budget
        self.lease = inbound.claim_lease(settings)
        self.poll_seconds = settings.sms_poll_seconds
        if not self.postgres:
            self.poll_seconds = min(self.poll_seconds, SQLITE_POLL_SECONDS)
        self.listener: Optional[Listener] = None
        self.pending = 0  # notifications not yet matched by a claim
        self.more = True  # claim until the queue has nothing claimable
        self.blocked = False  # texts wait behind turns in flight (same conversation)
        self.turns: Set[asyncio.Task] = set()
        self._kick = asyncio.Event()
        self._stopped = False
        self._retry_at = 0.0
        self._backoff = 0.0

    def notified(self) -> None:
        """A text was recorded (NOTIFY); also called when listening (re)starts."""
        self.pending += 1
        self._kick.set()

    def listening_restarted(self) -> None:
        self.more = True
        self._kick.set()

    async def run(self) -> None:
        """Claim rounds until stop(); then wait for the turns in flight."""
        loop = asyncio.get_running_loop()
        while not self._stopped:
            listening = self.listener is not None and self.listener.listening
            timeout = SAFETY_POLL_SECONDS if listening else self.poll_seconds
            if self._retry_at:
                timeout = min(timeout, max(0.05, self._retry_at - loop.time()))
            try:
                await asyncio.wait_for(self._kick.wait(), timeout)
            except asyncio.TimeoutError:
                self.more = True
            self._kick.clear()
            if self._stopped:
                break
            try:
                await self._claim_round(loop)
            except Exception:  # noqa: BLE001 - e.g. the database is down: next round
                logger.exception("claiming inbound texts failed")
                await asyncio.sleep(1.0)

    async def _claim_round(self, loop: asyncio.AbstractEventLoop) -> None:
        if loop.time() < self._retry_at:
            return
        while (
            len(self.turns) < self.concurrency
            and (self.pending > 0 or self.more)
            and loop.time() >= self._retry_at  # a turn that just failed may have set it
        ):
            turn = await run_sync(self._begin)
            if turn is None:
                self.more = False
                if self.turns:
                    self.blocked = True  # retried when a turn ends
                else:
                    self.pending = 0
                return
            self.pending = max(0, self.pending - 1)
            if turn.settled:
                self.sender.take(turn.queued)
                continue
            task = asyncio.create_task(self._turn(turn))
            self.turns.add(task)
            task.add_done_callback(self._turn_done)

    def _begin(self) -> Optional[Turn]:
        if self.postgres:
            return retry_if_disconnected(begin_postgres, self.budget, self.settings)
        return begin_sqlite(self.budget, self.lease, self.settings)

    def _turn_done(self, task: asyncio.Task) -> None:
        self.turns.discard(task)
        if self.blocked:
            self.blocked = False
            self.more = True
        if self.pending > 0 or self.more:
            self._kick.set()

    async def _turn(self, turn: Turn) -> None:
        """The assistant's answer, then the finish; back to the queue if unreachable."""
        started = time.monotonic()
        try:
            answer = await ask_assistant(self.ask_bot, turn.decision.intake)
        except BotUnavailable as failure:
            self._assistant_answered(False)
            logger.warning(
                "assistant unreachable for message %s (%s): retrying in %.0f s",
                turn.message.id,
                failure,
                self._backoff,
            )
            await run_sync(abort_postgres if self.postgres else abort_sqlite, turn)
            self.more = True
            return
        except BaseException:
            await run_sync(abort_postgres if self.postgres else abort_sqlite, turn)
            raise
        self._assistant_answered(True)
        end = end_postgres if self.postgres else end_sqlite
        try:
            queued = await run_sync(end, turn, answer, self.budget, self.settings.reason_teams)
        except Exception:  # noqa: BLE001 - PostgreSQL rolled back; SQLite's lease expires
            logger.exception("could not finish inbound message %s", turn.message.id)
            return
        metrics.observe_turn(time.monotonic() - started)
        self.sender.take(queued)

    def _assistant_answered(self, answered: bool) -> None:
        loop = asyncio.get_running_loop()
        if answered:
            self._backoff, self._retry_at = 0.0, 0.0
            return
        if loop.time() >= self._retry_at:  # turns failing together count once
            self._backoff = min(max(self._backoff * 2, 1.0), 30.0)
            self._retry_at = loop.time() + self._backoff

    async def stop(self, drain_seconds: float = DRAIN_SECONDS) -> None:
        """Claim nothing more; give the turns in flight time to finish (the rest roll back
        or their lease expires: they are claimed again)."""
        self._stopped = True
        self._kick.set()
        if self.turns:
            await asyncio.wait(list(self.turns), timeout=drain_seconds)
        for task in list(self.turns):
            task.cancel()


def _forget_old_nonces() -> None:
    with connection_scope(durable=False) as connection:
        forget_old_nonces(connection)


async def _sweep_nonces() -> None:
    while True:
        try:
            await run_sync(_forget_old_nonces)
        except Exception:  # noqa: BLE001
            logger.exception("could not forget old webhook nonces")
        await asyncio.sleep(NONCE_SWEEP_SECONDS)


async def serve(settings: Settings, rasa_urls: List[str], concurrency: int) -> None:
    """Run a worker until SIGTERM/SIGINT."""
    asker = RasaAsker(rasa_urls, settings.plivo_auth_token)
    await asker.open()
    sender = OutboxWorker(
        PlivoSender(
            settings.plivo_auth_id,
            settings.plivo_auth_token,
            settings.plivo_api_url,
            settings.plivo_timeout_seconds,
        ),
        settings,
    )
    worker = InboundWorker(settings, asker, concurrency, sender)
    releaser = ReleaseLoop(settings, sender.take)
    if worker.postgres:
        worker.listener = Listener(
            settings.database_url, worker.notified, worker.listening_restarted
        )
        worker.listener.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    tasks = [
        asyncio.create_task(sender.run()),
        asyncio.create_task(worker.run()),
        asyncio.create_task(releaser.run()),
        asyncio.create_task(_sweep_nonces()),
    ]
    logger.info(
        "SMS worker up (%d turns at once, %s); assistant at %s",
        concurrency,
        "LISTEN sms_inbound" if worker.postgres else f"polling every {worker.poll_seconds} s",
        ", ".join(rasa_urls),
    )
    await stop.wait()
    logger.info("SMS worker stopping")
    await worker.stop()
    releaser.stop()
    if worker.listener is not None:
        worker.listener.stop()
    await sender.stop()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asker.close()


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.sms.worker", description=__doc__)
    parser.add_argument("--rasa-url", action="append", required=True, dest="rasa_urls")
    parser.add_argument(
        "--concurrency", type=int, help="turns at once (default SMS_PROCESSING_CONCURRENCY, 8)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = plivo_settings(settings_or_exit("sms worker"))
    missing = settings.missing_plivo_settings()
    if missing:
        raise SystemExit(f"sms worker: set {', '.join(missing)} in the environment")
    use_database(settings.database_url)
    without_pre_ping()  # transactions are retried (or claimed again) on a dead connection
    concurrency = args.concurrency or settings.sms_processing_concurrency
    asyncio.run(serve(settings, args.rasa_urls, concurrency))


if __name__ == "__main__":
    main()
