"""Requests about a stay go on the customer's room request on file (actions, real database)."""

from __future__ import annotations

import datetime as dt
from typing import Dict, List, Optional

import pytest

from actions.stay_note_form import ActionAskStayNoteRef, ValidateStayNoteForm
from actions.stay_request import ActionAttachStayNote, ActionStayRequest
from bot.sms.segments import UCS2, sms_info
from bot.store.bookings import BookingView, create_booking_request, open_requests_for_phone
from bot.store.db import session_scope
from bot.store.seed import ALEX, JORDAN, SAM
from bot.text.stay_notes import is_new_booking, stay_note
from tests.action_helpers import make_tracker, run_action, texts


@pytest.mark.parametrize(
    "text, new, note",
    [
        ("extra towels and a late checkout", False, "extra towels, a late checkout"),
        ("I need 2 beds in my room", False, "I need 2 beds in my room"),
        ("can we get a crib", False, "can we get a crib"),
        ("late checkout tomorrow pls", False, "late checkout tomorrow pls"),
        ("can I get champagne in the room", False, "can I get champagne in the room"),
        ("book a rm dec 5-8 for 2 ppl king", True, None),
        ("need a room dec 5 for 3 nights", True, None),
        ("new booking", True, None),
        ("i want to book another room", True, None),
        ("any rooms available dec 5", True, None),
        ("can we get another room key", False, "can we get another room key"),
        ("REQUEST", False, None),
        ("i need a room", False, None),
        ("room for 2 please", False, None),
    ],
)
def test_new_booking_or_a_note(text: str, new: bool, note: Optional[str]) -> None:
    assert is_new_booking(text) == new
    if not new:
        assert stay_note(text) == note


def slots_of(events: List[Dict]) -> Dict:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def requests_of(phone: str) -> List[BookingView]:
    with session_scope() as session:
        return open_requests_for_phone(session, phone)


def add_request(phone: str, days_ahead: int) -> BookingView:
    start = dt.date.today() + dt.timedelta(days=days_ahead)
    with session_scope() as session:
        return create_booking_request(
            session, phone, start, start + dt.timedelta(days=3), 2, "queen", None
        )


def span(b: BookingView) -> str:
    return f"{b.check_in:%b} {b.check_in.day}-" + (
        f"{b.check_out.day}"
        if b.check_out.month == b.check_in.month
        else f"{b.check_out:%b} {b.check_out.day}"
    )


async def stay(phone: str, text: str) -> tuple:
    messages, events = await run_action(ActionStayRequest(), make_tracker(phone, text, "book_room"))
    return texts(messages), slots_of(events)


async def test_a_stay_request_goes_on_the_one_request_on_file(database_url: str) -> None:
    [sams] = requests_of(SAM)
    replies, slots = await stay(SAM, "extra towels and a late checkout")
    assert replies == [
        f'Thanks Sam, I added "extra towels, a late checkout" to request {sams.ref}. '
        "Not guaranteed: we'll text to confirm."
    ]
    assert len(replies[0]) <= 160
    assert slots["stay_route"] == "note"
    [noted] = requests_of(SAM)
    assert noted.notes == "late check-in around 11pm; extra towels, a late checkout"
    assert (noted.check_in, noted.guests, noted.room_type) == (sams.check_in, 2, "king")


async def test_a_long_stay_request_is_quoted_short(database_url: str) -> None:
    text = "could we please have a quiet room on a high floor away from the elevator, thank you"
    replies, _ = await stay(SAM, text)
    assert '..." to request' in replies[0] and len(replies[0]) <= 160
    assert requests_of(SAM)[0].notes.endswith("away from the elevator")


async def test_a_note_in_emoji_and_curly_quotes_fits_two_segments_as_ucs2(
    database_url: str,
) -> None:
    text = "we\u2019d love a \u201cquiet\u201d room \U0001f64f\U0001f64f far from the lift please"
    replies, _ = await stay(SAM, text)
    info = sms_info(replies[0])
    assert replies[0].startswith('Thanks Sam, I added "we\u2019d love a \u201cquiet\u201d room')
    assert '..." to request' in replies[0]
    assert (info.encoding, info.segments) == (UCS2, 2)  # fits, nothing cut with (reply MORE)
    assert requests_of(SAM)[0].notes.endswith("far from the lift please")  # all kept


async def test_no_request_on_file_opens_the_form(database_url: str) -> None:
    for phone in (JORDAN, ALEX, "+15005550999", "browser-7"):
        replies, slots = await stay(phone, "can we get a crib")
        assert (replies, slots) == ([], {"stay_route": "form"})
    assert requests_of(JORDAN) == [] and requests_of(ALEX) == []


@pytest.mark.parametrize(
    "text", ["book a rm dec 5-8 for 2 ppl king", "new booking", "another room pls", "REQUEST"]
)
async def test_a_new_booking_opens_the_form_even_with_a_request_on_file(
    database_url: str, text: str
) -> None:
    replies, slots = await stay(SAM, text)
    assert (replies, slots) == ([], {"stay_route": "form"})
    assert requests_of(SAM)[0].notes == "late check-in around 11pm"


async def test_several_requests_the_customer_picks_one(database_url: str) -> None:
    first, second = requests_of(SAM)[0], add_request(SAM, 40)
    replies, slots = await stay(SAM, "can we get a crib")
    assert replies == []
    assert slots == {"stay_route": "which", "stay_note": "can we get a crib", "stay_note_ref": None}

    asked, _ = await run_action(
        ActionAskStayNoteRef(),
        make_tracker(SAM, "can we get a crib", "book_room", active_loop="stay_note_form"),
    )
    assert texts(asked) == [
        f"Add it to which request? {first.ref} ({span(first)}) or {second.ref} "
        f"({span(second)})? Text e.g. {first.ref}."
    ]

    async def answer(text: str, intent: str = "nlu_fallback") -> tuple:
        tracker = make_tracker(
            SAM,
            text,
            intent,
            slots={"requested_slot": "stay_note_ref", "stay_note": "can we get a crib"},
            active_loop="stay_note_form",
        )
        messages, events = await run_action(ValidateStayNoteForm(), tracker)
        return texts(messages), slots_of(events)

    assert await answer(second.ref) == ([], {"stay_note_ref": second.ref})
    assert await answer(f"{second.ref.lower()} pls", "thank") == ([], {"stay_note_ref": second.ref})
    assert await answer("2") == ([], {"stay_note_ref": second.ref})  # the 2nd one listed
    assert await answer("R999999") == (
        ["I couldn't find an open request R999999 on your file."],
        {"stay_note_ref": None},
    )
    assert await answer("the big one") == ([], {"stay_note_ref": None})  # asked again
    assert await answer("no", "deny") == ([], {"stay_note_ref": "none"})
    assert await answer("is there parking", "faq") == ([], {})  # answered, then asked again
    assert await answer("AGENT", "human_handoff") == ([], {})
    assert await answer("book a rm dec 5-8 for 2 ppl", "book_room") == ([], {})  # the form
    assert await answer("also a cot", "book_room") == ([], {"stay_note_ref": None})

    tracker = make_tracker(
        SAM,
        second.ref,
        "nlu_fallback",
        slots={"stay_note": "can we get a crib", "stay_note_ref": second.ref},
    )
    messages, events = await run_action(ActionAttachStayNote(), tracker)
    assert texts(messages)[0].startswith(
        f'Thanks Sam, I added "can we get a crib" to request {second.ref}'
    )
    assert slots_of(events) == {"stay_note": None, "stay_note_ref": None}
    notes = {b.ref: b.notes for b in requests_of(SAM)}
    assert notes == {first.ref: "late check-in around 11pm", second.ref: "can we get a crib"}


async def test_leaving_it_adds_nothing(database_url: str) -> None:
    tracker = make_tracker(
        SAM, "no", "deny", slots={"stay_note": "a crib", "stay_note_ref": "none"}
    )
    messages, _ = await run_action(ActionAttachStayNote(), tracker)
    assert texts(messages) == ["OK, I didn't add it to a request."]
    assert requests_of(SAM)[0].notes == "late check-in around 11pm"


async def test_a_ref_in_the_text_picks_the_request(database_url: str) -> None:
    first, second = requests_of(SAM)[0], add_request(SAM, 40)
    replies, slots = await stay(SAM, f"a crib in {second.ref} please")
    assert slots["stay_route"] == "note" and second.ref in replies[0]
    assert requests_of(SAM)[1].notes == f"a crib in {second.ref} please"
    assert requests_of(SAM)[0].notes == first.notes


async def test_someone_elses_request_is_never_touched(database_url: str) -> None:
    [sams] = requests_of(SAM)
    alex = add_request(ALEX, 30)
    replies, slots = await stay(ALEX, f"extra pillows for {sams.ref}")
    assert replies == [f"I couldn't find an open request {sams.ref} on your file."]
    assert slots["stay_route"] == "which"
    tracker = make_tracker(
        ALEX, sams.ref, "nlu_fallback", slots={"stay_note": "x", "stay_note_ref": sams.ref}
    )
    messages, _ = await run_action(ActionAttachStayNote(), tracker)
    assert texts(messages) == [f"I couldn't find an open request {sams.ref} on your file."]
    assert requests_of(SAM)[0].notes == "late check-in around 11pm"
    assert requests_of(ALEX)[0].notes == alex.notes
