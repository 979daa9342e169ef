"""Run the stand-in in a background thread with its own event loop (tests, benchmarks)."""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType

from aiohttp import web

from devtools.plivo_standin.server import create_app

HOST = "127.0.0.1"


class StandIn:
    """A stand-in server on loopback; ``url`` is its root, e.g. "http://127.0.0.1:8008"."""

    def __init__(
        self,
        auth_id: str,
        auth_token: str,
        business_number: str,
        bot_webhook_url: str | None,
        port: int | None = None,
        status_delays: tuple[float, ...] = (0.05, 0.05),
    ) -> None:
        """Configure (not start) a stand-in; port None or 0 picks a free port."""
        self.app = create_app(auth_id, auth_token, business_number, bot_webhook_url, status_delays)
        self._port = port or 0
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def port(self) -> int:
        """The bound port (known once started)."""
        if not self._port:
            raise RuntimeError("the stand-in is not started")
        return self._port

    @property
    def url(self) -> str:
        """The server root, e.g. "http://127.0.0.1:8008"."""
        return f"http://{HOST}:{self.port}"

    @property
    def api_url(self) -> str:
        """The SDK's API base, e.g. "http://127.0.0.1:8008/v1/Account"."""
        return self.url + "/v1/Account"

    async def _serve(self) -> None:
        runner = web.AppRunner(self.app, shutdown_timeout=1.0)
        await runner.setup()
        try:
            site = web.TCPSite(runner, HOST, self._port)
            await site.start()
            self._port = runner.addresses[0][1]
            self._loop = asyncio.get_running_loop()
            self._stop_event = asyncio.Event()
            self._ready.set()
            await self._stop_event.wait()
        finally:
            await runner.cleanup()

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:  # reported to start() if startup failed
            self._error = error
        finally:
            self._ready.set()

    def start(self, timeout: float = 10.0) -> StandIn:
        """Start serving; returns once the port is bound (raises if startup failed)."""
        if self._thread is not None:
            raise RuntimeError("the stand-in is already started")
        self._thread = threading.Thread(target=self._run, name="plivo-standin", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("the stand-in did not start in time")
        if self._error is not None:
            self._thread.join()
            raise RuntimeError("the stand-in failed to start") from self._error
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving and wait for the thread to end (idempotent)."""
        thread, loop, stop_event = self._thread, self._loop, self._stop_event
        if thread is None:
            return
        if loop is not None and stop_event is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(stop_event.set)
            except RuntimeError:  # the loop already ended
                pass
        thread.join(timeout)
        self._thread = self._loop = self._stop_event = None

    def __enter__(self) -> StandIn:
        """Start on entering a with block."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop on leaving the with block."""
        self.stop()
