"""Over SMS: asking for a person wins over a task; "did you mean" only for a plausible guess.

The whole path (signed webhook -> SMS gateway -> Rasa -> action server -> outbox ->
stand-in) with the trained model. The clarification tests find their input with the same
model: the first of several two-job texts that it puts in the band (nlu_fallback with a
describable top guess, track_order preferred), so they do not hang on one exact score.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
from sqlalchemy import select

from actions.clarify import best_guess, describe
from bot.store.db import session_scope
from bot.store.models import HandoffRequest
from bot.store.seed import ALEX, PRIYA, SAM
from tests.sms_harness import SmsSetup, running_sms_setup

pytestmark = pytest.mark.slow

QUEUED = "passing you to a person"
OUT_OF_SCOPE = "Sorry, I can't help with that."
DID_YOU_MEAN = "did you want to"
REPHRASE = "Could you say it another way?"
GAVE_UP = "Sorry, I'm not getting it."
# Texts that mix two jobs ("order checkin", "parking package"): the classifier leans one
# way, unsure. Of ~450 such texts, the first the trained model puts in the band with a
# one-text job on top is used (track_order preferred); about 1 in 10 land there today.
_ORDERS = ["order", "package", "parcel", "delivery", "tracking", "shipping", "purchase"]
_ROOMS = ["room", "booking", "reservation", "stay", "checkin", "checkout"]
_TOPICS = ["wifi", "parking", "breakfast", "pool", "gym", "hours", "pets", "prices"]
BAND_CANDIDATES = ["track my room", "the package room", "order for my room"] + [
    text
    for a, b in [
        *itertools.product(_ORDERS, _ROOMS),
        *itertools.product(_ORDERS, _TOPICS),
        *itertools.product(_TOPICS, _ROOMS),
    ]
    for text in (f"{a} {b}", f"{b} {a}", f"my {a} {b}")
]
ONE_TEXT_JOBS = ("track_order", "my_requests", "faq", "menu", "bot_challenge")


@dataclass(frozen=True)
class InBand:
    """A text the model sends to clarification, and what the bot then offers."""

    text: str
    guess: str  # e.g. track_order or faq/wifi
    question: str
    payload: str  # what "1) Yes" sends


@pytest.fixture(scope="module")
def sms(tmp_path_factory: pytest.TempPathFactory, trained_model: Path) -> Iterator[SmsSetup]:
    with running_sms_setup(tmp_path_factory.mktemp("sms_fallback"), trained_model) as setup:
        yield setup


async def _parse(model: Path, texts: List[str]) -> List[Dict[str, Any]]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    return [await agent.parse_message(text) for text in texts]


def _in_band(text: str, parsed: Dict[str, Any]) -> Optional[InBand]:
    """What the bot offers for a parse result, or None when it is not in the band."""
    if (parsed.get("intent") or {}).get("name") != "nlu_fallback":
        return None
    guess = best_guess(parsed)
    if not guess or guess.split("/")[0] not in ONE_TEXT_JOBS or not describe(guess):
        return None
    payload = f"/{guess}"
    if guess.startswith("faq/"):
        payload = '/faq{"faq_topic": "%s"}' % guess.split("/", 1)[1]
    return InBand(text, guess, f"Sorry, did you want to {describe(guess)}?\n1) Yes  2) No", payload)


@pytest.fixture(scope="module")
def in_band(trained_model: Path) -> InBand:
    """A text the trained model scores inside the band (found, not assumed)."""
    parsed = asyncio.run(_parse(trained_model, BAND_CANDIDATES))
    found = [b for t, p in zip(BAND_CANDIDATES, parsed, strict=True) if (b := _in_band(t, p))]
    found.sort(key=lambda b: b.guess != "track_order")  # stable: list order within each
    if found:
        return found[0]
    scores = [
        (t, [(r["name"], round(r["confidence"], 2)) for r in p["intent_ranking"][:3]])
        for t, p in zip(BAND_CANDIDATES, parsed, strict=True)
    ]
    pytest.fail(f"none of {len(scores)} texts lands in the band; e.g. {scores[:20]}")


def fresh_phone() -> str:
    return f"+1555{time.time_ns() % 10_000_000:07d}"


def handoffs_of(sms: SmsSetup, phone: str) -> List[tuple]:
    """(reason, team, detail) of every handoff request of a phone."""
    with session_scope(sms.database_url) as session:
        rows = session.execute(
            select(HandoffRequest).where(HandoffRequest.phone == phone).order_by(HandoffRequest.id)
        ).scalars()
        return [(h.reason, h.team, h.detail) for h in rows]


# --- A. an explicit ask for a person wins ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "team"),
    [
        ("I need a human please, my order never arrived", "orders"),
        ("can I talk to a real person about my booking", "bookings"),
        ("get me an agent, my package is lost", "orders"),
        ("pls connect me to someone my refund is wrong", "orders"),
    ],
)
def test_an_ask_for_a_person_hands_off_at_once_with_the_task(
    sms: SmsSetup, text: str, team: str
) -> None:
    phone = fresh_phone()
    reply = sms.ask(phone, text)
    assert QUEUED in reply
    assert "order number" not in reply.lower() and "which order" not in reply.lower()
    assert handoffs_of(sms, phone) == [("asked", team, text)]


def test_an_ask_for_a_person_after_a_booking_goes_to_the_team_for_asks(sms: SmsSetup) -> None:
    phone = fresh_phone()
    sms.ask(phone, "my requests")  # a bookings topic earlier in the chat
    text = "I want to speak to a manager"
    assert QUEUED in sms.ask(phone, text)
    assert handoffs_of(sms, phone) == [("asked", "general", text)]


@pytest.mark.parametrize(
    "text", ["my husband wants to know where the order is", "the person at the front desk was nice"]
)
def test_a_mere_mention_of_people_does_not_hand_off(sms: SmsSetup, text: str) -> None:
    phone = SAM if "order" in text else fresh_phone()
    reply = sms.ask(phone, text)
    assert QUEUED not in reply
    assert handoffs_of(sms, phone) == []


# --- B. clarification only for a plausible guess --------------------------------------------


def test_a_clearly_out_of_scope_text_gets_the_out_of_scope_answer(sms: SmsSetup) -> None:
    reply = sms.ask(fresh_phone(), "whats the weather like in paris this weekend")
    assert reply.startswith(OUT_OF_SCOPE)
    assert DID_YOU_MEAN not in reply.lower()


def test_in_band_the_bot_asks_and_yes_runs_the_suggested_flow(
    sms: SmsSetup, in_band: InBand
) -> None:
    assert sms.ask(ALEX, in_band.text) == in_band.question
    after_yes = sms.ask(ALEX, "1")
    assert after_yes == sms.ask(ALEX, in_band.payload)  # the same as asking for it outright
    assert REPHRASE not in after_yes and OUT_OF_SCOPE not in after_yes
    if in_band.guess == "track_order":
        assert "A1001" in after_yes and "A1002" in after_yes  # Alex's orders


def test_in_band_yes_by_title_works_too(sms: SmsSetup, in_band: InBand) -> None:
    assert sms.ask(PRIYA, in_band.text) == in_band.question
    assert sms.ask(PRIYA, "Yes") == sms.ask(PRIYA, in_band.payload)


def test_in_band_no_asks_to_rephrase_then_offers_a_person(sms: SmsSetup, in_band: InBand) -> None:
    phone = fresh_phone()
    assert DID_YOU_MEAN in sms.ask(phone, in_band.text).lower()
    assert REPHRASE in sms.ask(phone, "2")
    assert DID_YOU_MEAN in sms.ask(phone, in_band.text).lower()  # still unsure: asked again
    gave_up = sms.ask(phone, "No")
    assert GAVE_UP in gave_up and QUEUED in gave_up
    assert handoffs_of(sms, phone) == [("fallback", "general", in_band.text)]


def test_in_band_no_then_out_of_scope_offers_a_person(sms: SmsSetup, in_band: InBand) -> None:
    """Out of scope is no clarification: the second miss ends the asking."""
    phone = fresh_phone()
    assert DID_YOU_MEAN in sms.ask(phone, in_band.text).lower()
    assert REPHRASE in sms.ask(phone, "2")
    gave_up = sms.ask(phone, "whats the weather like in paris this weekend")
    assert GAVE_UP in gave_up and QUEUED in gave_up
    assert [h[0] for h in handoffs_of(sms, phone)] == ["fallback"]


def test_after_an_implausible_text_an_unsure_one_is_still_clarified(
    sms: SmsSetup, in_band: InBand
) -> None:
    """The implausible text is re-issued as out_of_scope: no 'two fallbacks in a row'."""
    phone = fresh_phone()
    assert sms.ask(phone, "the person at the front desk was nice").startswith(OUT_OF_SCOPE)
    assert sms.ask(phone, in_band.text) == in_band.question
    assert handoffs_of(sms, phone) == []
