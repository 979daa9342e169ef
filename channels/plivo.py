"""Plivo SMS connector: `channels.plivo.PlivoInput` in credentials.yml.

Two ways to run it (credentials key `front_door`, else SMS_FRONT_DOOR):

- `rasa` (default): the Rasa server receives Plivo's webhooks itself and sends replies
  through the outbox (bot/sms/plivo_front_door.py): one process, nothing else to start.
    POST /webhooks/plivo/webhook   inbound texts (V3-signed)
    POST /webhooks/plivo/status    delivery reports
    GET  /webhooks/plivo/          health
- `gateway`: `python -m bot.sms.gateway` receives the webhooks and runs the outbox in a
  process of its own, so the Rasa server only runs the assistant:
    POST /webhooks/plivo/process   one text from the gateway (HMAC-signed) -> bot messages
    GET  /webhooks/plivo/          health

Credentials (credentials.yml keys, else environment): auth_id (PLIVO_AUTH_ID),
auth_token (PLIVO_AUTH_TOKEN), number (PLIVO_NUMBER), api_url (PLIVO_API_URL),
public_url (BOT_PUBLIC_URL: the base URL Plivo calls, used to check signatures).
"""

from __future__ import annotations

import dataclasses
import json
import logging
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

from bot.settings import Settings, get_settings
from bot.sms import gateway_auth, outbox
from bot.sms.back_office import SmsBackOffice, wake_worker
from bot.sms.conversation import AskBot
from bot.sms.plivo_front_door import PlivoFrontDoor
from bot.sms.text import join_turn
from bot.store.db import run_sync, session_scope
from bot.text.phone import to_e164

logger = logging.getLogger(__name__)

FRONT_DOORS = ("rasa", "gateway")


def _enqueue(phone: str, text: str, buttons: List[Dict[str, str]]) -> None:
    with session_scope() as session:
        outbox.enqueue(
            session,
            phone,
            text,
            buttons=buttons or None,
            segment_budget=get_settings().sms_segment_budget,
        )


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
        wake_worker()  # in gateway mode the gateway's worker finds it on its next poll


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
            sms_front_door=str(credentials.get("front_door") or env.sms_front_door).lower(),
        )
        missing = settings.missing_plivo_settings()
        if missing:
            raise ValueError(
                f"Plivo channel: set {', '.join(missing)} (environment or credentials.yml)"
            )
        if settings.sms_front_door not in FRONT_DOORS:
            raise ValueError(
                f"Plivo channel: front_door / SMS_FRONT_DOOR must be one of {FRONT_DOORS}"
            )
        return cls(settings)

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def get_output_channel(self) -> Optional[OutputChannel]:
        return PlivoOutput()

    def asker(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> AskBot:
        """Runs the assistant on one text in this process and collects its messages."""

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

        return ask_bot

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        plivo = Blueprint("plivo_webhook", __name__)
        ask_bot = self.asker(on_new_message)
        if self.settings.sms_front_door == "rasa":
            concurrency = self.settings.sms_processing_concurrency
            back_office = SmsBackOffice(self.settings, ask_bot, concurrency)
            PlivoFrontDoor(self.settings, back_office.arrived, back_office).add_routes(plivo)
            return plivo
        self._add_gateway_routes(plivo, ask_bot)
        return plivo

    def _add_gateway_routes(self, plivo: Blueprint, ask_bot: AskBot) -> None:
        auth_token = self.settings.plivo_auth_token

        @plivo.route("/", methods=["GET"])
        async def health(_request: Request) -> HTTPResponse:
            return response.json({"status": "ok", "front_door": "gateway"})

        @plivo.route("/process", methods=["POST"])
        async def process(request: Request) -> HTTPResponse:
            body = request.body or b""
            if not gateway_auth.is_valid(body, request.headers, auth_token):
                logger.warning("gateway call refused: bad signature from %s", request.ip)
                return response.json({"error": "invalid gateway signature"}, status=403)
            try:
                payload = json.loads(body)
                phone, text = str(payload["phone"]), str(payload["text"])
                message_id = str(payload["message_id"])
                metadata = dict(payload.get("metadata") or {})
            except (ValueError, KeyError, TypeError):
                return response.json({"error": "expected phone, text, message_id"}, status=400)
            messages = await ask_bot(phone, text, message_id, metadata)
            return response.json({"messages": messages})
