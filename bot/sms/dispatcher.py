"""The gateway's second process: processes recorded texts and sends the outbox.

Started by `python -m bot.sms.gateway` with its stdin connected to the gateway: each line
is "<ref> <phone>" for a text just recorded (ref: its message id, or on SQLite its id in
the receiver's inbox file, whose new texts the dispatcher then copies into `messages`).
It stops when stdin closes (the gateway is gone), after finishing what it is doing. Texts
whose line never arrived are found by the back office's sweep, so a lost line only delays
a reply by a few seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from typing import Optional, Sequence

from bot.settings import Settings, get_settings
from bot.sms.back_office import SmsBackOffice
from bot.sms.plivo_front_door import plivo_settings
from bot.sms.rasa_asker import RasaAsker

logger = logging.getLogger(__name__)

DRAIN_SECONDS = 20.0  # to finish the texts in hand when stopped (the gateway waits 30 s)


def parse_line(line: bytes) -> Optional[tuple]:
    """(ref, phone) from a nudge line, or None if it is not one."""
    parts = line.split()
    if len(parts) != 2 or not parts[0].isdigit():
        return None
    return int(parts[0]), parts[1].decode("ascii", "replace")


async def dispatch(settings: Settings, rasa_url: str, concurrency: int) -> None:
    asker = RasaAsker(rasa_url, settings.plivo_auth_token)
    await asker.open()
    back_office = SmsBackOffice(settings, asker, concurrency)
    await back_office.start()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    logger.info("SMS dispatcher up; assistant at %s", rasa_url)
    try:
        while not stop.is_set():
            read = asyncio.ensure_future(reader.readline())
            stopped = asyncio.ensure_future(stop.wait())
            await asyncio.wait({read, stopped}, return_when=asyncio.FIRST_COMPLETED)
            stopped.cancel()
            if not read.done():
                read.cancel()
                break
            line = read.result()
            if not line:  # the gateway is gone
                break
            nudge = parse_line(line)
            if nudge is not None:
                back_office.arrived(*nudge)
    finally:
        await back_office.stop(drain_seconds=DRAIN_SECONDS)
        await asker.close()
    logger.info("SMS dispatcher stopped")


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.sms.dispatcher", description=__doc__)
    parser.add_argument("--rasa-url", required=True)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--nice", type=int, default=0, help="lower CPU priority by N steps")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.nice > 0:  # before any thread exists: they all inherit it
        os.nice(args.nice)
        logger.info("SMS dispatcher at nice %d", os.getpriority(os.PRIO_PROCESS, 0))
    asyncio.run(dispatch(plivo_settings(get_settings()), args.rasa_url, args.concurrency))


if __name__ == "__main__":
    main()
