"""Delivery figures of a test run: texts sent, answered, lost, duplicated, out of order.

Built from what the customers sent and what the SMS API received, per phone in order:

    figures = counts(sent_texts, {phone: [m["text"] for m in setup.sent(phone)]}, answers)

`answers(text, reply)` says whether a reply answers a text; texts of one phone should get
replies that tell them apart (e.g. "hi" -> "Hi! ...", "is there parking" -> "...parking...").
A reply is matched to the earliest text it answers that has no reply yet:

- answered: texts with a reply; lost: texts without one;
- duplicated: replies beyond the one per text (another reply to an answered text, or a
  reply that answers none of the phone's texts);
- out_of_order: replies that answer an earlier text than a reply received before them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Callable, Dict, Mapping, Sequence

Answers = Callable[[str, str], bool]


@dataclass(frozen=True)
class Counts:
    sent: int
    answered: int
    lost: int
    duplicated: int
    out_of_order: int

    def as_dict(self) -> Dict[str, int]:
        return asdict(self)

    def __str__(self) -> str:
        return " ".join(f"{name}={value}" for name, value in asdict(self).items())


def counts(
    sent: Mapping[str, Sequence[str]], replies: Mapping[str, Sequence[str]], answers: Answers
) -> Counts:
    """The figures over every phone of `sent` (phone -> texts in the order sent; replies:
    phone -> reply texts in the order the SMS API took them)."""
    total = answered = duplicated = out_of_order = 0
    for phone, texts in sent.items():
        total += len(texts)
        done = [False] * len(texts)
        latest = -1
        for reply in replies.get(phone, ()):
            index = next(
                (i for i, text in enumerate(texts) if not done[i] and answers(text, reply)), None
            )
            if index is None:
                duplicated += 1
                continue
            done[index] = True
            answered += 1
            if index < latest:
                out_of_order += 1
            latest = max(latest, index)
    return Counts(total, answered, total - answered, duplicated, out_of_order)
