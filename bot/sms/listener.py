"""PostgreSQL LISTEN on `sms_inbound` for the worker, on a connection of its own.

The receiver's recording statement calls pg_notify (delivered at its commit). The
connection is watched by the event loop (no thread); if it breaks, the worker polls
until it is back (retried every few seconds).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Callable, Optional

import psycopg2
import psycopg2.extensions
from sqlalchemy.engine import make_url

from bot.sms.queue import NOTIFY_CHANNEL

logger = logging.getLogger(__name__)

RECONNECT_SECONDS = 3.0


def libpq_dsn(database_url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as libpq takes it (no `+driver`)."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class Listener:
    """Calls `on_notify()` per notification, `on_listening()` each time LISTEN starts."""

    def __init__(
        self,
        database_url: str,
        on_notify: Callable[[], None],
        on_listening: Callable[[], None],
    ) -> None:
        self.dsn = libpq_dsn(database_url)
        self.on_notify = on_notify
        self.on_listening = on_listening
        self.connection: Optional[psycopg2.extensions.connection] = None
        self._task: Optional[asyncio.Task] = None
        self._broken = asyncio.Event()

    @property
    def listening(self) -> bool:
        return self.connection is not None and not self.connection.closed

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._keep_listening())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self._close()

    async def _keep_listening(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                await asyncio.to_thread(self._connect)
                assert self.connection is not None
                self._broken.clear()
                loop.add_reader(self.connection.fileno(), self._readable)
                logger.info("listening on %s", NOTIFY_CHANNEL)
                self.on_listening()
                await self._broken.wait()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - the worker polls meanwhile
                logger.warning("LISTEN %s unavailable (%s); polling", NOTIFY_CHANNEL, error)
            self._close()
            await asyncio.sleep(RECONNECT_SECONDS)

    def _connect(self) -> None:
        connection = psycopg2.connect(self.dsn)
        connection.set_isolation_level(psycopg2.extensions.ISOLATION_LEVEL_AUTOCOMMIT)
        with connection.cursor() as cursor:
            cursor.execute(f"LISTEN {NOTIFY_CHANNEL}")
        self.connection = connection

    def _readable(self) -> None:
        connection = self.connection
        if connection is None:
            return
        try:
            connection.poll()
        except Exception as error:  # noqa: BLE001 - a broken connection: reconnect
            logger.warning("LISTEN connection lost: %s", error)
            self._close()
            self._broken.set()
            return
        while connection.notifies:
            connection.notifies.pop(0)
            self.on_notify()

    def _close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is None:
            return
        try:
            asyncio.get_running_loop().remove_reader(connection.fileno())
        except (RuntimeError, ValueError, OSError):
            pass
        try:
            connection.close()
        except Exception:  # noqa: BLE001
            pass
