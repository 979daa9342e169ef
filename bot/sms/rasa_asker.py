"""A worker's way to the assistant: signed POSTs to a Rasa server's
/webhooks/plivo/process route (channels/plivo.py), any of several servers."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, Dict, List, Optional, Sequence

import aiohttp

from bot.sms import gateway_auth
from bot.sms.conversation import BotTurn, BotUnavailable

logger = logging.getLogger(__name__)

PROCESS_PATH = "/webhooks/plivo/process"
DOWN_SECONDS = 5.0  # an unreachable server is skipped this long (unless all are down)


class BotError(Exception):
    """The Rasa server answered, but could not process the text (it failed on it)."""


class RasaAsker:
    """An AskBot over HTTP, round-robin over healthy Rasa servers. open() and close() run
    inside the worker's event loop."""

    def __init__(self, rasa_urls: Sequence[str], auth_token: str, timeout: float = 60.0) -> None:
        if isinstance(rasa_urls, str):
            rasa_urls = [rasa_urls]
        self.urls = [url.rstrip("/") + PROCESS_PATH for url in rasa_urls]
        self.auth_token = auth_token
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: Optional[aiohttp.ClientSession] = None
        self._next = 0
        self._down_until: Dict[str, float] = {}

    async def open(self, *_: Any) -> None:
        self._session = aiohttp.ClientSession(
            timeout=self.timeout, connector=aiohttp.TCPConnector(limit=64)
        )

    async def close(self, *_: Any) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _order(self) -> List[str]:
        """The servers to try: round-robin, those recently down last."""
        start = self._next % len(self.urls)
        self._next += 1
        ring = self.urls[start:] + self.urls[:start]
        now = time.monotonic()
        up = [url for url in ring if self._down_until.get(url, 0.0) <= now]
        return up + [url for url in ring if url not in up]

    async def __call__(
        self, phone: str, text: str, message_id: str, metadata: Dict[str, Any]
    ) -> BotTurn:
        if self._session is None:
            raise BotUnavailable("worker HTTP session not open")
        body = json.dumps(
            {"phone": phone, "text": text, "message_id": message_id, "metadata": metadata}
        ).encode()
        failures = []
        for url in self._order():
            try:
                return await self._post(url, body)
            except BotUnavailable as failure:
                self._down_until[url] = time.monotonic() + DOWN_SECONDS
                failures.append(str(failure))
        raise BotUnavailable("; ".join(failures))

    async def _post(self, url: str, body: bytes) -> BotTurn:
        assert self._session is not None
        # signed per attempt: every call carries a nonce of its own
        headers = {"Content-Type": "application/json", **gateway_auth.sign(body, self.auth_token)}
        try:
            async with self._session.post(url, data=body, headers=headers) as answer:
                raw = await answer.read()
                status = answer.status
        except (aiohttp.ClientConnectionError, asyncio.TimeoutError) as error:
            raise BotUnavailable(f"{url}: {error!r}") from error
        if status in (502, 503, 504):
            raise BotUnavailable(f"{url} answered {status}")
        if status != 200:
            raise BotError(f"{url} answered {status}: {raw[:200]!r}")
        try:
            answer = json.loads(raw)
            return BotTurn(list(answer["messages"]), list(answer.get("failed_actions") or []))
        except (ValueError, KeyError, TypeError) as error:
            raise BotError(f"{url}: unreadable answer {raw[:200]!r}") from error
