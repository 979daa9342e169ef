"""What the customer's phone got (the Plivo stand-in), and a round of the desk's BOT/WAIT
offers, for the transfer tests."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from typing import List, Optional

from bot.desk.maintenance import offer_bot_to_long_waiters
from bot.settings import Settings
from bot.store.db import session_scope
from tests.desk.stack import Stack

PASSING = "passing you to"
OFFER = "Reply BOT"


def texts_to(stack: Stack, phone: str) -> List[str]:
    return [m["text"] for m in stack.sms.sent(phone)]


def wait_for(stack: Stack, phone: str, word: str, timeout: float = 20) -> List[str]:
    """Until a text containing `word` reached the phone; all its texts."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        texts = texts_to(stack, phone)
        if any(word in t for t in texts):
            return texts
        time.sleep(0.1)
    raise AssertionError(f"{phone} never got {word!r}: {texts_to(stack, phone)}")


def offer_round(stack: Stack, quiet_seconds: Optional[float] = None) -> int:
    """One round of the desk's BOT/WAIT offers to everyone queued (no minimum wait);
    `quiet_seconds`: DESK_WAIT_OFFER_AFTER_AGENT_SECONDS (default: the setting's)."""
    settings = Settings.from_env()
    settings = dataclasses.replace(
        settings,
        database_url=stack.url,
        desk_wait_offer_after_agent_seconds=(
            settings.desk_wait_offer_after_agent_seconds if quiet_seconds is None else quiet_seconds
        ),
    )
    with session_scope(stack.url) as session:
        return offer_bot_to_long_waiters(session, dt.timedelta(0), settings)
