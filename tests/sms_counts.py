"""Counts of a burst of texts against the replies the SMS provider recorded.

Each text carries a key (e.g. an order number "A1003") that its reply repeats, so a reply
tells which text it answers. From what was sent (phone -> the texts in the order the
business accepted them) and the outbound messages (the Plivo stand-in's record, in the
order they were handed over) this counts: texts sent, answered (at least one reply),
lost (no reply), duplicated (replies beyond the first), out of order (replies that
answer an earlier text than a reply before them) and unmatched (replies naming none of the
phone's keys, e.g. an apology in place of the answer).

A test that expects apologies for some texts (the polite reply of a turn the assistant
failed) passes that reply as `apology`: each such reply answers the phone's earliest text
still without a reply and is counted in `apologies`, not in unmatched.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Dict, Iterable, List, Mapping, Optional, Sequence


@dataclass(frozen=True)
class SentText:
    """One text as sent: its key (repeated by the reply), body and MessageUUID."""

    key: str
    text: str
    uuid: str


@dataclass
class Counts:
    sent: int = 0
    answered: int = 0
    lost: int = 0
    duplicated: int = 0
    out_of_order: int = 0
    unmatched: int = 0
    apologies: int = 0  # replies that are the expected apology (see the module doc)
    problems: List[str] = field(default_factory=list)  # what was wrong, per phone
    apologized: List[str] = field(default_factory=list)  # MessageUUIDs answered by one

    def line(self, label: str) -> str:
        """One log line: `label: sent=.. answered=.. lost=.. ...`."""
        figures = {k: v for k, v in asdict(self).items() if isinstance(v, int)}
        return f"{label}: " + " ".join(f"{k}={v}" for k, v in figures.items())

    @property
    def clean(self) -> bool:
        """Nothing lost, duplicated, out of order or unmatched."""
        return not (self.lost or self.duplicated or self.out_of_order or self.unmatched)


def reply_key(reply: str, keys: Sequence[str]) -> str:
    """The one key a reply names, else "" (none or several)."""
    named = [key for key in keys if key in reply]
    return named[0] if len(named) == 1 else ""


def count(
    sent: Mapping[str, Sequence[SentText]],
    outbound: Iterable[Mapping],
    apology: Optional[str] = None,
) -> Counts:
    """Counts of `sent` against outbound messages (dicts with "to" and "text", in order)."""
    replies: Dict[str, List[str]] = {phone: [] for phone in sent}
    for message in outbound:
        if message.get("to") in replies:
            replies[str(message["to"])].append(str(message["text"]))
    counts = Counts()
    for phone, texts in sent.items():
        keys = [t.key for t in texts]
        counts.sent += len(texts)
        got: Dict[str, int] = {key: 0 for key in keys}
        highest = -1
        for reply in replies[phone]:
            if apology is not None and reply == apology:
                key = next((k for k in keys if got[k] == 0), "")
                if not key:
                    counts.duplicated += 1
                    counts.problems.append(f"{phone}: an apology beyond its texts")
                    continue
                counts.apologies += 1
                counts.apologized += [t.uuid for t in texts if t.key == key]
            else:
                key = reply_key(reply, keys)
            if not key:
                counts.unmatched += 1
                counts.problems.append(f"{phone}: unmatched reply {reply!r}")
                continue
            got[key] += 1
            position = keys.index(key)
            if got[key] == 1 and position < highest:
                counts.out_of_order += 1
                counts.problems.append(f"{phone}: {key} answered after a later text")
            highest = max(highest, position)
        for key, n in got.items():
            if n == 0:
                counts.lost += 1
                counts.problems.append(f"{phone}: {key} not answered")
            else:
                counts.answered += 1
                if n > 1:
                    counts.duplicated += n - 1
                    counts.problems.append(f"{phone}: {key} answered {n} times")
    return counts
