"""Failure injection for tests: refused create calls, slow answers, undeliverable numbers."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from devtools.plivo_standin.phones import digits, is_plausible

FINAL_FAILURE_STATES = ("undelivered", "failed")


@dataclass(frozen=True)
class Undeliverable:
    """How messages to one destination end."""

    error_code: str
    state: str = "undelivered"


def _number(body: dict[str, Any], key: str, positive: bool = True) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{key} must be a number")
    if value < 0 or (positive and value == 0):
        raise ValueError(f"{key} must be {'positive' if positive else 'zero or more'}")
    return float(value)


@dataclass
class Faults:
    """The failures currently injected; empty means the stand-in behaves normally."""

    status: int | None = None
    remaining: int | None = None
    until: float | None = None
    delay: float = 0.0
    delay_remaining: int | None = None
    undeliverable: dict[str, Undeliverable] = field(default_factory=dict)
    clock: Callable[[], float] = time.monotonic

    def clear(self) -> None:
        """Remove every injected failure."""
        self.status = self.remaining = self.until = None
        self.delay, self.delay_remaining = 0.0, None
        self.undeliverable.clear()

    def configure(self, body: dict[str, Any]) -> None:
        """Apply one ``POST /_standin/fail`` body; ValueError if it is malformed."""
        if not isinstance(body, dict) or not body:
            raise ValueError("expected a JSON object")
        known = {"status", "count", "seconds", "delay", "undeliverable", "error_code", "state"}
        unknown = set(body) - known
        if unknown:
            raise ValueError(f"unknown keys: {sorted(unknown)}")
        count = _number(body, "count")
        if count is not None and count != int(count):
            raise ValueError("count must be an integer")
        seconds = _number(body, "seconds")
        delay = _number(body, "delay", positive=False)
        if "status" in body:
            self._set_status(body["status"], count, seconds)
        elif seconds is not None:
            raise ValueError("seconds needs a status")
        if delay is not None:
            self.delay = delay
            delay_count = count if "status" not in body else None
            self.delay_remaining = int(delay_count) if delay_count is not None else None
        if "undeliverable" in body:
            self._set_undeliverable(body)
        elif "error_code" in body or "state" in body:
            raise ValueError("error_code/state need undeliverable")
        if "status" not in body and delay is None and "undeliverable" not in body:
            raise ValueError("give status, delay or undeliverable")

    def _set_status(self, status: Any, count: float | None, seconds: float | None) -> None:
        if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
            raise ValueError("status must be an HTTP error status (400-599)")
        if count is not None and seconds is not None:
            raise ValueError("give count or seconds, not both")
        self.status = status
        if seconds is not None:
            self.remaining, self.until = None, self.clock() + seconds
        else:
            self.remaining, self.until = int(count or 1), None

    def _set_undeliverable(self, body: dict[str, Any]) -> None:
        number = body["undeliverable"]
        if not isinstance(number, str) or not is_plausible(number):
            raise ValueError("undeliverable must be a phone number")
        code = str(body.get("error_code", "200"))
        state = body.get("state", "undelivered")
        if state not in FINAL_FAILURE_STATES:
            raise ValueError(f"state must be one of {FINAL_FAILURE_STATES}")
        self.undeliverable[digits(number)] = Undeliverable(error_code=code, state=state)

    def take_failure(self) -> int | None:
        """The status the next create call must fail with (consuming one count), or None."""
        if self.status is None:
            return None
        if self.until is not None:
            if self.clock() < self.until:
                return self.status
            self.status = self.until = None
            return None
        if self.remaining:
            self.remaining -= 1
            status = self.status
            if not self.remaining:
                self.status = self.remaining = None
            return status
        return None

    def take_delay(self) -> float:
        """Seconds the next create answer must be held back (0 for none)."""
        if not self.delay:
            return 0.0
        delay = self.delay
        if self.delay_remaining is not None:
            self.delay_remaining -= 1
            if self.delay_remaining <= 0:
                self.delay, self.delay_remaining = 0.0, None
        return delay

    def undeliverable_for(self, number: str) -> Undeliverable | None:
        """How messages to this number fail, or None if they are delivered."""
        return self.undeliverable.get(digits(number))

    def describe(self) -> dict[str, Any]:
        """The injected failures as JSON."""
        left = None if self.until is None else max(0.0, self.until - self.clock())
        return {
            "status": self.status,
            "count": self.remaining,
            "seconds_left": left,
            "delay": self.delay,
            "delay_count": self.delay_remaining,
            "undeliverable": {
                "+" + n: {"error_code": u.error_code, "state": u.state}
                for n, u in self.undeliverable.items()
            },
        }
