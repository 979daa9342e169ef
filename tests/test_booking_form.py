"""validate_booking_form: extraction from texter language and clear re-asks."""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List

from actions.booking_form import ValidateBookingForm
from bot.store.seed import ALEX
from tests.action_helpers import make_tracker, run_action


def slot_values(events: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


async def validate(text: str, intent: str, requested: str | None, **slots: Any):
    tracker = make_tracker(
        ALEX, text, intent, slots={"requested_slot": requested, **slots}, active_loop="booking_form"
    )
    messages, events = await run_action(ValidateBookingForm(), tracker)
    return [m.get("response") for m in messages], slot_values(events)


def in_days(days: int) -> dt.date:
    return dt.date.today() + dt.timedelta(days=days)


async def test_opening_message_fills_several_slots() -> None:
    start = in_days(30)
    end = start + dt.timedelta(days=3)
    text = f"need a rm {start:%b} {start.day} for 3 nights for 2 ppl, king, 2 beds pls"
    responses, slots = await validate(text, "book_room", None)
    assert responses == []
    assert slots["checkin"] == start.isoformat() and slots["checkout"] == end.isoformat()
    assert slots["guests"] == 2.0 and slots["room_type"] == "king"
    assert slots["special_requests"] == "2 beds pls"


async def test_past_date_is_re_asked() -> None:
    past = in_days(-3)
    responses, slots = await validate(f"{past:%m}/{past:%d}/{past:%Y}", "nlu_fallback", "checkin")
    assert responses == ["utter_date_in_past"] and slots["checkin"] is None


async def test_unreadable_date_is_re_asked() -> None:
    responses, slots = await validate("whenever works", "nlu_fallback", "checkin")
    assert responses == ["utter_date_unreadable"] and slots["checkin"] is None


async def test_checkout_before_checkin_is_re_asked() -> None:
    checkin = in_days(20)
    before = checkin - dt.timedelta(days=2)
    responses, slots = await validate(
        f"{before:%b} {before.day}", "nlu_fallback", "checkout", checkin=checkin.isoformat()
    )
    assert responses == ["utter_checkout_before_checkin"] and slots["checkout"] is None


async def test_nights_give_checkout() -> None:
    checkin = in_days(20)
    _, slots = await validate("4 nights", "nlu_fallback", "checkout", checkin=checkin.isoformat())
    assert slots["checkout"] == (checkin + dt.timedelta(days=4)).isoformat()


async def test_absurd_guest_counts_are_re_asked() -> None:
    for text in ("0", "50", "40 ppl"):
        responses, slots = await validate(text, "nlu_fallback", "guests")
        assert responses == ["utter_guests_out_of_range"], text
        assert slots["guests"] is None
    responses, slots = await validate("lots of us lol", "nlu_fallback", "guests")
    assert responses == ["utter_guests_unreadable"] and slots["guests"] is None
    _, slots = await validate("2 adults + 1 kid", "nlu_fallback", "guests")
    assert slots["guests"] == 3.0


async def test_room_type_synonyms_and_unknowns() -> None:
    _, slots = await validate("a dbl pls", "nlu_fallback", "room_type")
    assert slots["room_type"] == "double"
    _, slots = await validate("any", "nlu_fallback", "room_type")
    assert slots["room_type"] == "any"
    responses, slots = await validate("penthouse", "nlu_fallback", "room_type")
    assert responses == ["utter_room_type_unknown"] and slots["room_type"] is None


async def test_no_special_requests() -> None:
    _, slots = await validate("nope", "deny", "special_requests")
    assert slots["special_requests"] == "none"
    _, slots = await validate("crib and a quiet room", "book_room", "special_requests")
    assert slots["special_requests"] == "crib and a quiet room"


async def test_a_question_mid_form_is_not_taken_as_an_answer() -> None:
    responses, slots = await validate("is there parking", "faq", "checkin")
    assert responses == [] and "checkin" not in slots


async def test_answering_checkout_does_not_move_checkin() -> None:
    checkin = in_days(40)
    checkout = checkin + dt.timedelta(days=2)
    responses, slots = await validate(
        f"{checkout:%b} {checkout.day}", "nlu_fallback", "checkout", checkin=checkin.isoformat()
    )
    assert responses == [] and "checkin" not in slots
    assert slots["checkout"] == checkout.isoformat()


async def test_a_range_while_asked_for_checkin_fills_both() -> None:
    start = in_days(10)
    end = start + dt.timedelta(days=1)
    _, slots = await validate(f"{start:%m/%d}-{end:%m/%d}", "nlu_fallback", "checkin")
    assert slots["checkin"] == start.isoformat() and slots["checkout"] == end.isoformat()
