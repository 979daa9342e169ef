"""Plivo's side of the SMS path: signed webhooks in, the outbox out.

POST webhook   inbound texts (V3-signed), recorded, acknowledged at once, processed in
               the background (per phone in order, phones in parallel)
POST status    delivery reports for the outbox
GET  /         health (outbox counts)

Hosted either by the Rasa server itself (`channels.plivo`, the default) or by the SMS
gateway process (`python -m bot.sms_gateway`), which then asks the Rasa server for the
assistant's answers; see docs/architecture.md.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Optional

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy import func, select

from bot import outbox
from bot.db import connection_scope, run_sync, run_sync_in, session_scope
from bot.inbound import record_inbound
from bot.models import OutboxMessage
from bot.outbox_worker import OutboxWorker
from bot.plivo_sender import PlivoSender
from bot.plivo_webhook import (
    InboundSms,
    WebhookError,
    first,
    forget_old_nonces,
    inbound_from_form,
    parse_form,
    remember_nonce,
    signature_is_valid,
)
from bot.settings import Settings
from bot.sms_conversation import AskBot, SmsConversations

logger = logging.getLogger(__name__)

WEBHOOK_PREFIX = "/webhooks/plivo"
# Recording an inbound text is what Plivo waits for: it gets threads of its own.
_ACK_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="plivo-ack")
# The running worker of this process, so replies queued here are sent at once.
_worker: Optional[OutboxWorker] = None


def wake_worker() -> None:
    """Tell this process's outbox worker (if it runs here) that a reply was queued."""
    if _worker is not None:
        _worker.wake()


def _record(sms: InboundSms, nonce: str) -> Optional[int]:
    """Nonce and message in one (durable: Plivo gets its 200 after it) transaction;
    raises WebhookError on a replay."""
    with connection_scope() as session:
        if not remember_nonce(session, nonce):
            raise WebhookError(403, "replayed signature nonce")
        return record_inbound(
            session, sms.phone, sms.text, sms.uuid, sms.kind, sms.media, sms.intent
        )


def _forget_old_nonces() -> None:
    with session_scope(durable=False) as session:
        forget_old_nonces(session)


def _apply_status(nonce: str, uuid: str, status: str, error_code: Optional[str]) -> bool:
    """Nonce and delivery report in one transaction; raises WebhookError on a replay."""
    with connection_scope(durable=False) as session:
        if not remember_nonce(session, nonce):
            raise WebhookError(403, "replayed signature nonce")
        return outbox.apply_status_callback(session, uuid, status, error_code)


def _outbox_counts() -> Dict[str, int]:
    with session_scope() as session:
        rows = session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()
    return {status: count for status, count in rows}


class PlivoFrontDoor:
    """Webhook routes, the background processing of texts, and the outbox worker."""

    def __init__(self, settings: Settings, ask_bot: AskBot, concurrency: int) -> None:
        self.settings = settings
        self.ask_bot = ask_bot
        self.concurrency = concurrency
        self.worker: Optional[OutboxWorker] = None
        self.conversations: Optional[SmsConversations] = None
        self._tasks: List[asyncio.Task] = []

    def url(self, route: str) -> str:
        """The public URL Plivo calls (signatures cover it)."""
        return f"{self.settings.bot_public_url}{WEBHOOK_PREFIX}/{route}"

    def _verify(self, request: Request, route: str) -> Dict[str, List[str]]:
        form = parse_form(request.body or b"")
        headers = {k.lower(): v for k, v in request.headers.items()}
        if not signature_is_valid(self.url(route), form, headers, self.settings.plivo_auth_token):
            raise WebhookError(403, "missing or invalid X-Plivo-Signature-V3")
        return form

    async def start(self, app: Any, _loop: Any = None) -> None:
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

    async def stop(self, _app: Any = None, _loop: Any = None) -> None:
        if self.worker is not None:
            await self.worker.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def add_routes(self, blueprint: Blueprint) -> None:
        """Register the routes and the start/stop listeners (prefix: /webhooks/plivo)."""

        # Sanic marks handlers with attributes, which bound methods cannot take.
        @blueprint.listener("after_server_start")
        async def start(app: Any, loop: Any) -> None:
            await self.start(app, loop)

        @blueprint.listener("before_server_stop")
        async def stop(app: Any, loop: Any) -> None:
            await self.stop(app, loop)

        @blueprint.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return await self.health(request)

        @blueprint.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return await self.receive(request)

        @blueprint.route("/status", methods=["POST"])
        async def delivery_report(request: Request) -> HTTPResponse:
            return await self.delivery_report(request)

    async def health(self, _request: Request) -> HTTPResponse:
        try:
            counts = await run_sync(_outbox_counts)
        except Exception:  # noqa: BLE001
            logger.exception("health check: database unavailable")
            return response.json({"status": "degraded", "database": "down"}, status=503)
        return response.json({"status": "ok", "outbox": counts})

    async def receive(self, request: Request) -> HTTPResponse:
        try:
            form = self._verify(request, "webhook")
            sms = inbound_from_form(form, self.settings.plivo_number)
            nonce = request.headers.get("X-Plivo-Signature-V3-Nonce", "")
            message_id = await run_sync_in(_ACK_POOL, _record, sms, nonce)
        except WebhookError as error:
            logger.warning(
                "plivo webhook refused (%d): %s from %s", error.status, error.reason, request.ip
            )
            return response.json({"error": error.reason}, status=error.status)
        except Exception:  # noqa: BLE001 - e.g. database down: Plivo will retry
            logger.exception("plivo webhook could not be recorded")
            return response.json({"error": "temporarily unavailable"}, status=503)
        if message_id is None:
            logger.info("duplicate MessageUUID %s ignored", sms.uuid)
            return response.json({"status": "duplicate"})
        if self.conversations is not None:
            self.conversations.submit(message_id, sms.phone)
        return response.json({"status": "received"})

    async def delivery_report(self, request: Request) -> HTTPResponse:
        try:
            form = self._verify(request, "status")
            uuid = first(form, "MessageUUID") or ""
            status = first(form, "Status") or ""
            if not uuid or not status:
                raise WebhookError(400, "missing MessageUUID or Status")
            nonce = request.headers.get("X-Plivo-Signature-V3-Nonce", "")
            known = await run_sync(_apply_status, nonce, uuid, status, first(form, "ErrorCode"))
        except WebhookError as error:
            logger.warning("plivo status callback refused (%d): %s", error.status, error.reason)
            return response.json({"error": error.reason}, status=error.status)
        except Exception:  # noqa: BLE001
            logger.exception("plivo status callback could not be recorded")
            return response.json({"error": "temporarily unavailable"}, status=503)
        if not known:
            logger.info("status %s for unknown message %s", status, uuid)
        return response.json({"status": "ok" if known else "unknown message"})

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
            await asyncio.sleep(5)
