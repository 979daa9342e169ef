"""The SMS work behind the webhooks: processing recorded texts and sending the outbox.

Runs inside the Rasa server (SMS_FRONT_DOOR=rasa) or in the gateway's dispatcher process
(bot/sms/dispatcher.py). Needs a running event loop: start() it from one.
"""

from __future__ import annotations

import asyncio
import logging
from typing import List, Optional

from bot.settings import Settings, inbox_database_url
from bot.sms import inbox
from bot.sms.conversation import AskBot, SmsConversations
from bot.sms.outbox_worker import OutboxWorker
from bot.sms.plivo_sender import PlivoSender
from bot.sms.plivo_webhook import forget_old_nonces
from bot.store.db import connection_scope, run_sync

logger = logging.getLogger(__name__)

SWEEP_SECONDS = 5.0
# The running worker of this process, so replies queued here are sent at once.
_worker: Optional[OutboxWorker] = None


def wake_worker() -> None:
    """Tell this process's outbox worker (if it runs here) that a reply was queued."""
    if _worker is not None:
        _worker.wake()


def _forget_old_nonces() -> None:
    with connection_scope(durable=False) as connection:
        forget_old_nonces(connection)


class SmsBackOffice:
    """Texts in order per phone, phones in parallel; the outbox worker; a sweep for texts
    a crash or an unreachable assistant left behind."""

    def __init__(self, settings: Settings, ask_bot: AskBot, concurrency: int) -> None:
        self.settings = settings
        self.ask_bot = ask_bot
        self.concurrency = concurrency
        self.worker: Optional[OutboxWorker] = None
        self.conversations: Optional[SmsConversations] = None
        self.inbox_url = inbox_database_url()  # SQLite: texts arrive in the receiver's inbox
        self._tasks: List[asyncio.Task] = []
        self._worker_task: Optional[asyncio.Task] = None
        self._copying: Optional[asyncio.Task] = None
        self._copy_again = False

    def arrived(self, ref: int, phone: str) -> None:
        """A text was recorded (ref: its message id, or on SQLite its inbox id): process it.
        A no-op before start(); the sweep finds it then."""
        if self.conversations is None:
            return
        if self.inbox_url is None:
            self.conversations.submit(ref, phone)
        else:
            self._copy_soon()

    def _copy_soon(self) -> None:
        """Copy new inbox texts into `messages` and submit them; one copy at a time, and one
        more after it if texts arrived meanwhile."""
        if self._copying is not None and not self._copying.done():
            self._copy_again = True
            return
        self._copying = asyncio.create_task(self._copy_until_idle())

    async def _copy_until_idle(self) -> None:
        again = True
        while again:
            self._copy_again = False
            try:
                await self.copy_inbox()
            except Exception:  # noqa: BLE001 - the sweep copies them a few seconds later
                logger.exception("could not copy texts from the inbox")
                return
            again = self._copy_again

    async def copy_inbox(self) -> int:
        """Copy what the receiver recorded into `messages` and submit it (SQLite)."""
        if self.inbox_url is None or self.conversations is None:
            return 0
        copied = await run_sync(inbox.copy_new_texts, self.inbox_url)
        for message_id, phone in copied:
            self.conversations.submit(message_id, phone)
        return len(copied)

    async def start(self) -> None:
        global _worker
        settings = self.settings
        sender = PlivoSender(
            settings.plivo_auth_id,
            settings.plivo_auth_token,
            settings.plivo_api_url,
            settings.plivo_timeout_seconds,
        )
        self.worker = _worker = OutboxWorker(sender, settings)
        self.conversations = SmsConversations(self.ask_bot, self.worker.take, self.concurrency)
        self._worker_task = asyncio.create_task(self.worker.run())
        self._tasks = [self._worker_task, asyncio.create_task(self._sweep(self.conversations))]

    async def stop(self, drain_seconds: float = 0.0) -> None:
        """Stop sweeping, give the texts being processed `drain_seconds` to finish (the rest
        stay queued in the database for the next start), then stop the outbox worker."""
        for task in self._tasks:
            if task is not self._worker_task:  # the sweep
                task.cancel()
        if self._copying is not None:
            self._copying.cancel()
        if drain_seconds and self.conversations is not None:
            await self.conversations.drain(drain_seconds)
        if self.worker is not None:
            await self.worker.stop()
        for task in self._tasks:
            task.cancel()
        pending = self._tasks + ([self._copying] if self._copying is not None else [])
        await asyncio.gather(*pending, return_exceptions=True)

    async def _sweep(self, conversations: SmsConversations) -> None:
        """Copy texts left in the inbox and pick up inbound texts left unfinished (at
        start, then every few seconds); forget signature nonces older than their replay
        window (every minute)."""
        rounds = 0
        while True:
            try:
                copied = await self.copy_inbox()
                resumed = await conversations.resume_unfinished()
                if copied or resumed:
                    logger.info(
                        "copied %d texts from the inbox, resumed %d unfinished", copied, resumed
                    )
                if rounds % 12 == 0:
                    await run_sync(_forget_old_nonces)
            except Exception:  # noqa: BLE001
                logger.exception("could not look for unfinished inbound texts")
            rounds += 1
            await asyncio.sleep(SWEEP_SECONDS)
