"""The SMS work behind the webhooks: processing recorded texts and sending the outbox.

Runs inside the Rasa server (SMS_FRONT_DOOR=rasa) or in the gateway's dispatcher process
(bot/sms_dispatcher.py). Needs a running event loop: start() it from one.
"""

from __future__ import annotations

import asyncio
import logging
from typing import List, Optional

from bot.db import connection_scope, run_sync
from bot.outbox_worker import OutboxWorker
from bot.plivo_sender import PlivoSender
from bot.plivo_webhook import forget_old_nonces
from bot.settings import Settings
from bot.sms_conversation import AskBot, SmsConversations

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
        self._tasks: List[asyncio.Task] = []

    def submit(self, message_id: int, phone: str) -> None:
        """A text was recorded: process it (a no-op before start(); the sweep finds it)."""
        if self.conversations is not None:
            self.conversations.submit(message_id, phone)

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
        self._tasks = [
            asyncio.create_task(self.worker.run()),
            asyncio.create_task(self._sweep(self.conversations)),
        ]

    async def stop(self) -> None:
        if self.worker is not None:
            await self.worker.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    @staticmethod
    async def _sweep(conversations: SmsConversations) -> None:
        """Pick up inbound texts left unfinished (at start, then every few seconds), and
        forget signature nonces older than their replay window (every minute)."""
        rounds = 0
        while True:
            try:
                resumed = await conversations.resume_unfinished()
                if resumed:
                    logger.info("resumed %d unfinished inbound texts", resumed)
                if rounds % 12 == 0:
                    await run_sync(_forget_old_nonces)
            except Exception:  # noqa: BLE001
                logger.exception("could not look for unfinished inbound texts")
            rounds += 1
            await asyncio.sleep(SWEEP_SECONDS)
