"""Plivo SMS connector: `channels.plivo.PlivoInput` in credentials.yml.

POST /webhooks/plivo/webhook   inbound texts (V3-signed), recorded, acknowledged at once,
                               processed in the background
POST /webhooks/plivo/status    delivery reports for the outbox
GET  /webhooks/plivo/          health

Credentials (credentials.yml keys, else environment): auth_id (PLIVO_AUTH_ID),
auth_token (PLIVO_AUTH_TOKEN), number (PLIVO_NUMBER), api_url (PLIVO_API_URL),
public_url (BOT_PUBLIC_URL: the base URL Plivo calls, used to check signatures).
"""

from __future__ import annotations

import dataclasses
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import (
    CollectingOutputChannel,
    InputChannel,
    OutputChannel,
    UserMessage,
)
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import outbox
from bot.db import run_sync, run_sync_in, session_scope
from bot.inbound import record_inbound
from bot.outbox_worker import OutboxWorker
from bot.phone import to_e164
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
from bot.settings import Settings, get_settings
from bot.sms_conversation import SmsConversations
from bot.sms_text import join_turn

logger = logging.getLogger(__name__)

# The running worker of this process, so replies from anywhere can wake it.
_worker: Optional[OutboxWorker] = None
# Recording an inbound text is what Plivo waits for: it gets threads of its own.
_ACK_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="plivo-ack")


def _wake_worker() -> None:
    if _worker is not None:
        _worker.wake()


def _record(sms: InboundSms, nonce: str) -> Optional[int]:
    """Nonce and message in one transaction; raises WebhookError on a replay."""
    with session_scope() as session:
        if not remember_nonce(session, nonce):
            raise WebhookError(403, "replayed signature nonce")
        return record_inbound(
            session, sms.phone, sms.text, sms.uuid, sms.kind, sms.media, sms.intent
        )


def _forget_old_nonces() -> None:
    with session_scope() as session:
        forget_old_nonces(session)


def _apply_status(nonce: str, uuid: str, status: str, error_code: Optional[str]) -> bool:
    """Nonce and delivery report in one transaction; raises WebhookError on a replay."""
    with session_scope() as session:
        if not remember_nonce(session, nonce):
            raise WebhookError(403, "replayed signature nonce")
        return outbox.apply_status_callback(session, uuid, status, error_code)


def _enqueue(phone: str, text: str, buttons: List[Dict[str, str]]) -> None:
    with session_scope() as session:
        outbox.enqueue(
            session,
            phone,
            text,
            buttons=buttons or None,
            segment_budget=get_settings().sms_segment_budget,
        )


def _outbox_counts() -> Dict[str, int]:
    from sqlalchemy import func, select

    from bot.models import OutboxMessage

    with session_scope() as session:
        rows = session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()
    return {status: count for status, count in rows}


class PlivoOutput(OutputChannel):
    """Sends through the outbox: used for replies that do not answer an inbound text."""

    @classmethod
    def name(cls) -> Text:
        return "plivo"

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self._queue(recipient_id, [{"text": text}])

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        await self._queue(recipient_id, [{"text": text, "buttons": buttons}])

    async def _queue(self, recipient_id: Text, messages: List[Dict[str, Any]]) -> None:
        phone = to_e164(recipient_id)
        if phone is None:
            logger.error("not sending to %r: not a phone number", recipient_id)
            return
        text, buttons = join_turn(messages)
        await run_sync(_enqueue, phone, text, buttons)
        _wake_worker()


class PlivoInput(InputChannel):
    """Plivo SMS in, outbox out."""

    @classmethod
    def name(cls) -> Text:
        return "plivo"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "PlivoInput":
        credentials = credentials or {}
        env = get_settings()
        settings = dataclasses.replace(
            env,
            plivo_auth_id=credentials.get("auth_id") or env.plivo_auth_id,
            plivo_auth_token=credentials.get("auth_token") or env.plivo_auth_token,
            plivo_number=to_e164(credentials.get("number") or env.plivo_number) or "",
            plivo_api_url=credentials.get("api_url") or env.plivo_api_url,
            bot_public_url=(credentials.get("public_url") or env.bot_public_url).rstrip("/"),
        )
        missing = [
            name
            for name, value in (
                ("PLIVO_AUTH_ID", settings.plivo_auth_id),
                ("PLIVO_AUTH_TOKEN", settings.plivo_auth_token),
                ("PLIVO_NUMBER", settings.plivo_number),
            )
            if not value
        ]
        if missing:
            raise ValueError(
                f"Plivo channel: set {', '.join(missing)} (environment or credentials.yml)"
            )
        return cls(settings)

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def get_output_channel(self) -> Optional[OutputChannel]:
        return PlivoOutput()

    def url(self, route: str) -> str:
        return f"{self.settings.bot_public_url}/webhooks/{self.name()}/{route}"

    def _verify(self, request: Request, route: str) -> Dict[str, List[str]]:
        form = parse_form(request.body or b"")
        headers = {k.lower(): v for k, v in request.headers.items()}
        if not signature_is_valid(self.url(route), form, headers, self.settings.plivo_auth_token):
            raise WebhookError(403, "missing or invalid X-Plivo-Signature-V3")
        return form

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        plivo = Blueprint("plivo_webhook", __name__)
        settings = self.settings

        async def ask_bot(
            phone: str, text: str, message_id: str, metadata: Dict[str, Any]
        ) -> List[Dict[str, Any]]:
            collector = CollectingOutputChannel()
            await on_new_message(
                UserMessage(
                    text,
                    collector,
                    phone,
                    input_channel=self.name(),
                    message_id=message_id,
                    metadata=metadata,
                )
            )
            return collector.messages

        state: Dict[str, Any] = {}

        @plivo.listener("after_server_start")
        async def start(app: Any, _loop: Any) -> None:
            global _worker
            sender = PlivoSender(
                settings.plivo_auth_id,
                settings.plivo_auth_token,
                settings.plivo_api_url,
                settings.plivo_timeout_seconds,
            )
            worker = OutboxWorker(sender, settings)
            _worker = worker
            conversations = SmsConversations(
                ask_bot, worker.wake, settings.sms_processing_concurrency
            )
            state.update(worker=worker, conversations=conversations)
            app.add_task(worker.run())
            app.add_task(self._sweep(conversations))

        @plivo.listener("before_server_stop")
        async def stop(_app: Any, _loop: Any) -> None:
            if "worker" in state:
                await state["worker"].stop()

        @plivo.route("/", methods=["GET"])
        async def health(_request: Request) -> HTTPResponse:
            try:
                counts = await run_sync(_outbox_counts)
            except Exception:  # noqa: BLE001
                logger.exception("health check: database unavailable")
                return response.json({"status": "degraded", "database": "down"}, status=503)
            return response.json({"status": "ok", "outbox": counts})

        @plivo.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                form = self._verify(request, "webhook")
                sms = inbound_from_form(form, settings.plivo_number)
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
            if "conversations" in state:
                state["conversations"].submit(message_id, sms.phone)
            return response.json({"status": "received"})

        @plivo.route("/status", methods=["POST"])
        async def delivery_report(request: Request) -> HTTPResponse:
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

        return plivo

    @staticmethod
    async def _sweep(conversations: SmsConversations) -> None:
        """Pick up inbound texts left unfinished (at start, then every few seconds), and
        forget signature nonces older than their replay window (every minute)."""
        import asyncio

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
