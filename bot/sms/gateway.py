"""The SMS gateway: Plivo's webhooks and the outbox, beside the Rasa server.

    python -m bot.sms.gateway [--host 127.0.0.1] [--port 5006] [--rasa-url URL]

Two processes. This one serves the same routes as the Rasa channel
(/webhooks/plivo/webhook, /status, /), so Plivo (BOT_PUBLIC_URL) points here; it only
verifies, records and acknowledges, which keeps the acknowledgement fast whatever the rest
is doing. Its child, the dispatcher (bot/sms/dispatcher.py, told about each new text over a
pipe), settles STOP/HELP/MORE and agent-owned conversations, asks the Rasa server (started
with SMS_FRONT_DOOR=gateway) for the assistant's answers and sends the outbox. The Rasa
server's one core then runs nothing but the assistant. Settings come from the environment.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import subprocess
import sys
import time
from typing import Any, Optional, Sequence

from sanic import Blueprint, Sanic

from bot.settings import Settings, get_settings, inbox_database_url
from bot.sms import metrics
from bot.sms.plivo_front_door import WEBHOOK_PREFIX, PlivoFrontDoor, plivo_settings

logger = logging.getLogger(__name__)

DEFAULT_PORT = 5006
DEFAULT_CONCURRENCY = 16  # texts being answered at once (the Rasa server queues the rest)
# The assistant limits how many texts a machine answers; the dispatcher's bookkeeping can
# wait a few milliseconds where the assistant (and the receiver's acknowledgements) cannot.
# On shared cores the dispatcher yields to both; it only needs a CPU when they are idle.
# Measured on SQLite only: on PostgreSQL its statements run in the server's processes, which
# a nice value does not reach, and a starved dispatcher made acknowledgements wait
# (docs/benchmarks.md), so there it keeps the others' priority.
SQLITE_DISPATCHER_NICE = 19
SUPERVISE_SECONDS = 1.0  # how often the receiver checks that its dispatcher is alive
STEADY_SECONDS = 10.0  # a dispatcher that lived this long is restarted without delay


def default_dispatcher_nice() -> int:
    explicit = os.environ.get("SMS_DISPATCHER_NICE")
    if explicit:
        return int(explicit)
    return SQLITE_DISPATCHER_NICE if inbox_database_url() is not None else 0


class Dispatcher:
    """The dispatcher child process, kept running; `nudge` tells it about a recorded text
    (its message id, or on SQLite its inbox id)."""

    def __init__(self, rasa_url: str, concurrency: int, nice: int = 0) -> None:
        self.command = [
            sys.executable,
            "-m",
            "bot.sms.dispatcher",
            "--rasa-url",
            rasa_url,
            "--concurrency",
            str(concurrency),
            "--nice",
            str(nice),
        ]
        self.proc: Optional[subprocess.Popen] = None
        self._started_at = 0.0
        self._supervisor: Optional[asyncio.Task] = None

    def start(self, *_: Any) -> None:
        """Start the child and, from the server's event loop, the task that restarts it."""
        self._spawn()
        if self._supervisor is None:
            self._supervisor = asyncio.get_event_loop().create_task(self._supervise())

    def _spawn(self) -> None:
        self.proc = subprocess.Popen(self.command, stdin=subprocess.PIPE)
        assert self.proc.stdin is not None
        os.set_blocking(self.proc.stdin.fileno(), False)
        self._started_at = time.monotonic()
        logger.info("dispatcher started (pid %d)", self.proc.pid)

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    async def _supervise(self) -> None:
        """Restart a dead child within about a second, whether or not texts arrive; one
        that keeps dying at once is restarted less and less often (up to every 30 s). The
        new child's first sweep finds the texts its predecessor left."""
        delay = SUPERVISE_SECONDS
        while True:
            await asyncio.sleep(delay)
            if self.running():
                continue
            assert self.proc is not None
            lived = time.monotonic() - self._started_at
            delay = SUPERVISE_SECONDS if lived > STEADY_SECONDS else min(delay * 2, 30.0)
            logger.error(
                "dispatcher is not running (exit code %s after %.0f s); restarting it",
                self.proc.returncode,
                lived,
            )
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            self._spawn()

    def nudge(self, ref: int, phone: str) -> None:
        """Never blocks; a lost nudge only means the dispatcher's sweep finds the text."""
        if not self.running():
            return  # the supervisor starts a new child, which sweeps for it
        assert self.proc is not None and self.proc.stdin is not None
        try:
            os.write(self.proc.stdin.fileno(), f"{ref} {phone}\n".encode())
        except OSError as error:  # full pipe or a dying child
            logger.warning("could not nudge the dispatcher about %s: %s", ref, error)

    def stop(self, *_: Any) -> None:
        """Close its input: it finishes what it is doing and exits."""
        if self._supervisor is not None:
            self._supervisor.cancel()
            self._supervisor = None
        if self.proc is None:
            return
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            logger.error("dispatcher did not stop within 30 s; terminating it")
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def create_app(
    settings: Settings,
    rasa_url: str,
    concurrency: int = DEFAULT_CONCURRENCY,
    dispatcher_nice: int = 0,
) -> Sanic:
    """The gateway's Sanic app (not started); it starts and stops the dispatcher."""
    missing = settings.missing_plivo_settings()
    if missing:
        raise SystemExit(f"sms gateway: set {', '.join(missing)} in the environment")
    app = Sanic("sms_gateway", configure_logging=False)
    dispatcher = Dispatcher(rasa_url, concurrency, dispatcher_nice)
    app.register_listener(dispatcher.start, "before_server_start")
    app.register_listener(dispatcher.stop, "after_server_stop")
    plivo = Blueprint("plivo_gateway")
    PlivoFrontDoor(plivo_settings(settings), dispatcher.nudge).add_routes(plivo)
    app.blueprint(plivo, url_prefix=WEBHOOK_PREFIX)
    metrics.add_routes(app)  # GET /metrics, /health (bot/sms/metrics.py)
    return app


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.sms.gateway", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--rasa-url", default=os.environ.get("RASA_URL", "http://127.0.0.1:5005"))
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    parser.add_argument(
        "--dispatcher-nice",
        type=int,
        default=default_dispatcher_nice(),
        help="CPU priority steps of the dispatcher below the Rasa server and the receiver "
        f"(env SMS_DISPATCHER_NICE; default {SQLITE_DISPATCHER_NICE} on SQLite, 0 otherwise)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app = create_app(get_settings(), args.rasa_url, args.concurrency, args.dispatcher_nice)
    logger.info("SMS gateway on %s:%d, assistant at %s", args.host, args.port, args.rasa_url)
    app.run(host=args.host, port=args.port, workers=1, access_log=False, motd=False)


if __name__ == "__main__":
    main()
