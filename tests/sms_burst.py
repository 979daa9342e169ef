"""A burst of texts from many phones, sent in the background while a test injects a fault.

Every phone texts "where is order A1001" .. "A1004" (the bot's reply names the order, so
it tells which text it answers: tests/sms_counts.py), unless `texts` gives a phone its own
(each with a key its reply repeats). Each phone's texts go one after
another, each when the previous was acknowledged (as Plivo delivers them); the phones in
parallel, `gap` seconds apart (so a fault can strike while texts still arrive), each
phone's first text `stagger` seconds after the previous phone's; one phone
(`at_once`) posts all its texts at the same moment. A webhook that
is not acknowledged is posted again with the same MessageUUID until it is, as Plivo
retries.
"""

from __future__ import annotations

import threading
import time
import uuid as uuidlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Protocol

from tests.sms_counts import Counts, SentText, count
from tests.sms_harness import inbound_params

ORDERS = ("A1001", "A1002", "A1003", "A1004")


class Target(Protocol):
    def deliver(self, params: Dict[str, str]) -> int: ...

    def sent(self, to: Optional[str] = None) -> List[dict]: ...


def new_phones(count: int) -> List[str]:
    """`count` numbers no earlier run used (+1 555 then 7 digits from the clock)."""
    base = (time.time_ns() // 1000) % 10**5
    return [f"+1555{base:05d}{i:02d}" for i in range(count)]


@dataclass
class Burst:
    target: Target
    phones: List[str]
    at_once: Optional[str] = None
    threads: int = 12
    gap: float = 0.0  # seconds between a phone's texts
    stagger: float = 0.0  # seconds between one phone's first text and the next phone's
    texts: Dict[str, List[SentText]] = field(default_factory=dict)
    apology: Optional[str] = None  # a reply expected in place of some answers (sms_counts)
    acked: int = 0
    acked_uuids: List[str] = field(default_factory=list)  # in the order acknowledged
    retried: int = 0  # webhooks that needed more than one try
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _thread: Optional[threading.Thread] = None
    _errors: List[BaseException] = field(default_factory=list)

    def __post_init__(self) -> None:
        for phone in self.phones:
            self.texts.setdefault(
                phone,
                [SentText(o, f"where is order {o}", str(uuidlib.uuid4())) for o in ORDERS],
            )

    @property
    def total(self) -> int:
        return sum(len(texts) for texts in self.texts.values())

    def _deliver(self, phone: str, text: SentText) -> None:
        tries = self.target.deliver(inbound_params(phone, text.text, text.uuid))
        with self._lock:
            self.acked += 1
            self.acked_uuids.append(text.uuid)
            self.retried += tries > 1

    def _phone(self, phone: str, start: float) -> None:
        try:
            time.sleep(max(0.0, start - time.monotonic()))
            if phone == self.at_once:
                with ThreadPoolExecutor(len(self.texts[phone])) as pool:
                    list(pool.map(lambda t: self._deliver(phone, t), self.texts[phone]))
            else:
                for i, text in enumerate(self.texts[phone]):
                    if i and self.gap:
                        time.sleep(self.gap)
                    self._deliver(phone, text)
        except BaseException as error:  # noqa: BLE001 - reported by join()
            self._errors.append(error)

    def _run(self) -> None:
        order = list(self.phones)
        if self.at_once in order:  # its texts arrive in the middle of the others'
            order.remove(self.at_once)
            order.insert(len(order) // 3, self.at_once)
        begin = time.monotonic()
        starts = [begin + i * self.stagger for i in range(len(order))]
        with ThreadPoolExecutor(self.threads) as pool:
            list(pool.map(self._phone, order, starts))

    def start(self) -> "Burst":
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def wait_acked(self, count: int, timeout: float = 60) -> None:
        """Until `count` texts were acknowledged."""
        deadline = time.monotonic() + timeout
        while self.acked < count:
            assert not self._errors, self._errors
            assert time.monotonic() < deadline, f"only {self.acked} of {count} acknowledged"
            time.sleep(0.05)

    def join(self, timeout: float = 180) -> None:
        """Until every text was acknowledged (re-raises a sender's failure)."""
        assert self._thread is not None
        self._thread.join(timeout)
        assert not self._thread.is_alive(), f"burst not acknowledged in {timeout} s"
        assert not self._errors, self._errors

    def answered(self, outbound: List[dict]) -> int:
        """How many of the burst's texts have at least one reply so far."""
        return count(self.texts, outbound, self.apology).answered

    def wait_answered(self, timeout: float, settle: float = 3.0) -> List[dict]:
        """Until every text has a reply (or timeout), then `settle` seconds more for late
        duplicates; the outbound messages."""
        deadline = time.monotonic() + timeout
        outbound = self.target.sent()
        while self.answered(outbound) < self.total and time.monotonic() < deadline:
            time.sleep(0.5)
            outbound = self.target.sent()
        time.sleep(settle)
        return self.target.sent()

    def counts(
        self, outbound: List[dict], recorded_order: Callable[[List[str]], List[str]]
    ) -> Counts:
        """Counts against the order in which the business accepted each phone's texts
        (`recorded_order(uuids)`: the uuids in that order; it matters for `at_once`)."""
        uuids = [t.uuid for texts in self.texts.values() for t in texts]
        position = {uuid: i for i, uuid in enumerate(recorded_order(uuids))}
        accepted = {
            phone: sorted(texts, key=lambda t: position[t.uuid])
            for phone, texts in self.texts.items()
        }
        return count(accepted, outbound, self.apology)
