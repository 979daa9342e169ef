"""Per-key send pacing (one sending number = one key): at most `rate` sends per second."""

from __future__ import annotations

import asyncio
import time
from typing import Dict


class RateLimiter:
    def __init__(self, rate_per_second: float) -> None:
        self.interval = 1.0 / rate_per_second if rate_per_second > 0 else 0.0
        self._next: Dict[str, float] = {}
        self._lock = asyncio.Lock()

    async def acquire(self, key: str) -> None:
        """Wait for this key's next free slot (slots are handed out in call order)."""
        async with self._lock:
            now = time.monotonic()
            slot = max(now, self._next.get(key, now))
            self._next[key] = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)
