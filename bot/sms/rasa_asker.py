"""The SMS gateway's way to the assistant: signed POSTs to the Rasa server's
/webhooks/plivo/process route (see channels/plivo.py, gateway mode)."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Dict, List, Optional

import aiohttp

from bot.sms import gateway_auth
from bot.sms.conversation import BotUnavailable

logger = logging.getLogger(__name__)

PROCESS_PATH = "/webhooks/plivo/process"


class BotError(Exception):
    """The Rasa server answered, but could not process the text (it failed on it)."""


class RasaAsker:
    """An AskBot over HTTP. open() and close() run inside the gateway's event loop."""

    def __init__(self, rasa_url: str, auth_token: str, timeout: float = 60.0) -> None:
        self.url = rasa_url.rstrip("/") + PROCESS_PATH
        self.auth_token = auth_token
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: Optional[aiohttp.ClientSession] = None

    async def open(self, *_: Any) -> None:
        self._session = aiohttp.ClientSession(
            timeout=self.timeout, connector=aiohttp.TCPConnector(limit=64)
        )

    async def close(self, *_: Any) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __call__(
        self, phone: str, text: str, message_id: str, metadata: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        if self._session is None:
            raise BotUnavailable("gateway HTTP session not open")
        body = json.dumps(
            {"phone": phone, "text": text, "message_id": message_id, "metadata": metadata}
        ).encode()
        headers = {"Content-Type": "application/json", **gateway_auth.sign(body, self.auth_token)}
        try:
            async with self._session.post(self.url, data=body, headers=headers) as answer:
                raw = await answer.read()
                status = answer.status
        except (aiohttp.ClientConnectionError, asyncio.TimeoutError) as error:
            raise BotUnavailable(f"{self.url}: {error!r}") from error
        if status in (502, 503, 504):
            raise BotUnavailable(f"{self.url} answered {status}")
        if status != 200:
            raise BotError(f"{self.url} answered {status}: {raw[:200]!r}")
        try:
            return list(json.loads(raw)["messages"])
        except (ValueError, KeyError, TypeError) as error:
            raise BotError(f"{self.url}: unreadable answer {raw[:200]!r}") from error
