"""The stand-in's shared state (configuration, messages, faults, HTTP client, tasks)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Coroutine

import aiohttp
from aiohttp import web

from devtools.plivo_standin.faults import Faults
from devtools.plivo_standin.media import MediaStore
from devtools.plivo_standin.store import MessageStore

log = logging.getLogger("devtools.plivo_standin")

SMS_RATE = Decimal("0.00500")
MMS_RATE = Decimal("0.01800")
INBOUND_RATE = Decimal("0")


@dataclass
class StandInState:
    """Everything the handlers share; one per application."""

    auth_id: str
    auth_token: str
    business_number: str
    bot_webhook_url: str | None
    status_delays: tuple[float, ...] = (0.05, 0.05)
    store: MessageStore = field(default_factory=MessageStore)
    media: MediaStore = field(default_factory=MediaStore)
    faults: Faults = field(default_factory=Faults)
    http: aiohttp.ClientSession | None = None
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def spawn(self, coro: Coroutine[object, object, None]) -> None:
        """Run ``coro`` in the background; it is cancelled when the app shuts down."""
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def client(self) -> aiohttp.ClientSession:
        """The shared outgoing HTTP session (webhooks and status callbacks)."""
        if self.http is None:
            raise RuntimeError("the stand-in app is not running")
        return self.http

    async def cancel_tasks(self) -> None:
        """Cancel background work (pending status callbacks)."""
        tasks = list(self.tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


STATE = web.AppKey("plivo_standin_state", StandInState)
