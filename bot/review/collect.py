"""The texts the bot failed, read from Rasa's tracker store (`events`), grouped and counted.

A customer text is listed when it ended in `nlu_fallback` (unsure), `out_of_scope`, a
fallback handoff (`action_default_fallback`, or `action_handoff` for a text that did not ask
for a person) or a prediction below `below` confidence. Texts are grouped by their
normalised form (bot/text/masking.py: phone- and card-like numbers masked, lower case);
sender ids are never read out. Button payloads (`/intent`) are skipped, and Rasa's
re-issue of the same text (an implausible guess answered as out of scope) counts once.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Tuple

from sqlalchemy import create_engine, inspect, text

from bot.text.masking import mask_numbers, normalise

FALLBACK_INTENT = "nlu_fallback"
HANDOFF_ACTIONS = ("action_default_fallback", "action_handoff")
ASKED_FOR_PERSON = "human_handoff"
DEFAULT_BELOW = 0.5


@dataclass
class Turn:
    """One customer text and what the bot made of it."""

    text: str
    intent: str
    guess: str
    confidence: float
    reasons: List[str] = field(default_factory=list)


@dataclass
class ReviewItem:
    key: str  # normalised text: what labels are stored under
    text: str  # masked text as last typed
    count: int
    reasons: List[str]
    guess: str
    confidence: float
    label: Optional[str] = None

    def as_dict(self) -> Dict[str, Any]:
        return {
            "key": self.key,
            "text": self.text,
            "count": self.count,
            "reasons": self.reasons,
            "guess": self.guess,
            "confidence": self.confidence,
            "label": self.label,
        }


def best_guess(parse_data: Dict[str, Any]) -> Tuple[str, float]:
    """The intent the classifier leaned to (under nlu_fallback: its top candidate); a
    retrieval intent as `faq/<topic>`."""
    intent = parse_data.get("intent") or {}
    name, confidence = intent.get("name") or "", float(intent.get("confidence") or 0.0)
    if name == FALLBACK_INTENT:
        for ranked in parse_data.get("intent_ranking") or []:
            if ranked.get("name") and ranked["name"] != FALLBACK_INTENT:
                name, confidence = ranked["name"], float(ranked.get("confidence") or 0.0)
                break
    selector = (parse_data.get("response_selector") or {}).get(name) or {}
    response_key = (selector.get("response") or {}).get("intent_response_key")
    if response_key:
        name = response_key
    return name, round(confidence, 3)


def turns_of(events: Iterable[Tuple[str, str, Dict[str, Any]]], below: float) -> List[Turn]:
    """Customer turns with their reasons, from one sender's (type, action, data) rows."""
    turns: List[Turn] = []
    current: Optional[Turn] = None
    answered = False
    for type_name, action, data in events:
        if type_name == "user":
            text = (data.get("text") or "").strip()
            if not text or text.startswith("/"):
                current = None
                continue
            parse = data.get("parse_data") or {}
            intent = (parse.get("intent") or {}).get("name") or ""
            guess, confidence = best_guess(parse)
            if current is not None and not answered and current.text == text:
                current.intent, current.guess = intent, guess  # the re-issue of a text
            else:
                current = Turn(text, intent, guess, confidence)
                turns.append(current)
            answered = False
            note(current, intent, below)
        elif type_name == "bot":
            answered = True
        elif type_name == "action" and current is not None and action in HANDOFF_ACTIONS:
            if action == "action_default_fallback" or current.intent != ASKED_FOR_PERSON:
                add(current, "handoff")
    return [turn for turn in turns if turn.reasons]


def note(turn: Turn, intent: str, below: float) -> None:
    if intent == FALLBACK_INTENT:
        add(turn, "fallback")
    elif intent == "out_of_scope":
        add(turn, "out_of_scope")
    elif turn.confidence < below:
        add(turn, "low_confidence")


def add(turn: Turn, reason: str) -> None:
    if reason not in turn.reasons:
        turn.reasons.append(reason)


def group(turns: Iterable[Turn]) -> List[ReviewItem]:
    """One item per normalised text, most frequent first."""
    by_key: Dict[str, List[Turn]] = defaultdict(list)
    for turn in turns:
        by_key[normalise(turn.text)].append(turn)
    items = []
    for key, same in by_key.items():
        guesses = Counter(turn.guess for turn in same)
        guess = guesses.most_common(1)[0][0]
        scores = [turn.confidence for turn in same if turn.guess == guess]
        reasons: List[str] = []
        for turn in same:
            reasons += [reason for reason in turn.reasons if reason not in reasons]
        text = " ".join(mask_numbers(same[-1].text).split())
        items.append(
            ReviewItem(key, text, len(same), reasons, guess, round(sum(scores) / len(scores), 3))
        )
    return sorted(items, key=lambda item: (-item.count, item.key))


def collect(
    tracker_url: str, below: float = DEFAULT_BELOW, since: Optional[dt.datetime] = None
) -> List[ReviewItem]:
    """The review items of every conversation in the tracker store at `tracker_url`."""
    engine = create_engine(tracker_url)
    query = (
        "SELECT sender_id, type_name, action_name, data FROM events"
        " WHERE type_name IN ('user', 'bot', 'action')"
        + (" AND timestamp >= :since" if since else "")
        + " ORDER BY sender_id, id"
    )
    rows: Dict[str, List[Tuple[str, str, Dict[str, Any]]]] = defaultdict(list)
    try:
        if not inspect(engine).has_table("events"):
            return []  # Rasa has not answered anyone yet
        with engine.connect() as connection:
            params = {"since": since.timestamp()} if since else {}
            for sender, type_name, action, data in connection.execute(text(query), params):
                rows[sender].append((type_name, action or "", json.loads(data or "{}")))
    finally:
        engine.dispose()
    turns: List[Turn] = []
    for events in rows.values():
        turns += turns_of(events, below)
    return group(turns)
