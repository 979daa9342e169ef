"""In-memory record of the messages the stand-in accepted or received."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Iterable

from devtools.plivo_standin.formats import money, utcnow
from devtools.plivo_standin.phones import digits

OUTBOUND = "outbound"
INBOUND = "inbound"


@dataclass
class StoredMessage:
    """One message detail record; numbers are kept as digits (no '+'), like Plivo shows them."""

    seq: int
    uuid: str
    direction: str
    from_number: str
    to_number: str
    text: str
    type: str
    time: dt.datetime
    state: str
    units: int
    rate: Decimal
    error_code: str = ""
    media: list[str] = field(default_factory=list)
    callback_url: str | None = None
    callback_method: str = "POST"
    intent: str = ""
    bot_status: int | None = None

    @property
    def total_amount(self) -> str:
        """Units times rate, formatted like Plivo."""
        return money(self.rate * self.units)

    def view(self) -> dict[str, object]:
        """The stand-in's own JSON view (test and simulator helpers), numbers in E.164."""
        return {
            "seq": self.seq,
            "message_uuid": self.uuid,
            "direction": self.direction,
            "from": "+" + self.from_number,
            "to": "+" + self.to_number,
            "text": self.text,
            "type": self.type,
            "time": self.time.isoformat(),
            "state": self.state,
            "units": self.units,
            "error_code": self.error_code,
            "media": list(self.media),
            "callback_url": self.callback_url,
            "intent": self.intent,
            "bot_status": self.bot_status,
        }


@dataclass
class Counters:
    """How many create calls came in and how many were refused (injected) or rejected (4xx)."""

    create_calls: int = 0
    refused: int = 0
    rejected: int = 0


class MessageStore:
    """Messages in arrival order, each with an increasing integer ``seq``."""

    def __init__(self) -> None:
        """Start empty."""
        self._messages: list[StoredMessage] = []
        self._by_uuid: dict[str, StoredMessage] = {}
        self._seq = 0
        self.counters = Counters()

    def reset(self) -> None:
        """Forget all messages and counters (``seq`` keeps increasing)."""
        self._messages.clear()
        self._by_uuid.clear()
        self.counters = Counters()

    def add(
        self,
        direction: str,
        from_number: str,
        to_number: str,
        text: str,
        *,
        type_: str = "sms",
        state: str,
        units: int,
        rate: Decimal,
        message_uuid: str | None = None,
        media: Iterable[str] = (),
        callback_url: str | None = None,
        callback_method: str = "POST",
        intent: str = "",
    ) -> StoredMessage:
        """Record a message and return it."""
        self._seq += 1
        message = StoredMessage(
            seq=self._seq,
            uuid=message_uuid or str(uuid.uuid4()),
            direction=direction,
            from_number=digits(from_number),
            to_number=digits(to_number),
            text=text,
            type=type_,
            time=utcnow(),
            state=state,
            units=units,
            rate=rate,
            media=list(media),
            callback_url=callback_url,
            callback_method=callback_method,
            intent=intent,
        )
        self._messages.append(message)
        self._by_uuid[message.uuid] = message
        return message

    def get(self, message_uuid: str) -> StoredMessage | None:
        """The message with this uuid, or None."""
        return self._by_uuid.get(message_uuid)

    def all(self) -> list[StoredMessage]:
        """All messages, oldest first."""
        return list(self._messages)

    def outbound(self, to: str | None = None, since: int | None = None) -> list[StoredMessage]:
        """Outbound messages, oldest first, optionally to one number and with seq > since."""
        wanted = digits(to) if to else None
        return [
            m
            for m in self._messages
            if m.direction == OUTBOUND
            and (wanted is None or m.to_number == wanted)
            and (since is None or m.seq > since)
        ]

    def conversation(self, phone: str) -> list[StoredMessage]:
        """Inbound messages from ``phone`` and outbound messages to it, oldest first."""
        wanted = digits(phone)
        return [
            m
            for m in self._messages
            if (m.direction == INBOUND and m.from_number == wanted)
            or (m.direction == OUTBOUND and m.to_number == wanted)
        ]
