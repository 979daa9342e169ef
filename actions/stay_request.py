"""action_stay_request / action_attach_stay_note: a stay request goes on the request on file.

"extra towels and a late checkout" from a customer with an open room request is added to
that request as a note (several open: the customer picks one, see stay_note_form.py); a
new booking, or a customer with nothing on file, gets the room-request form. The slot
`stay_route` (form | note | which) tells the rules what comes next.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.booking_requests import requested_ref
from actions.booking_submit import booking_span
from actions.identity import sender_phone, turn_id
from actions.personal import utter_personal
from actions.safe_action import SafeAction
from actions.settings import action_settings
from bot.sms.customer_text import shorten
from bot.store.bookings import BookingView, add_note_for_phone, open_requests_for_phone
from bot.store.customers import first_name_for_phone
from bot.store.db import run_sync, session_scope
from bot.text.stay_notes import is_new_booking, stay_note

# UTF-16 units of the note quoted back: as typed, it may make the reply UCS-2, which must
# still fit two segments (data/checks.yml note); in GSM-7 the reply stays one.
NOTE_IN_REPLY = 35


@dataclass(frozen=True)
class StayNote:
    """Where a note went: the request it was added to, else the open requests to pick from."""

    added_to: Optional[BookingView]
    open_requests: List[BookingView]
    first_name: Optional[str]


def attach(phone: str, note: str, ref: Optional[int], message_id: Optional[str] = None) -> StayNote:
    """Add the note to request `ref`, or to the only open request; else list the choices."""
    with session_scope(action_settings().database_url) as session:
        name = first_name_for_phone(session, phone)
        requests = open_requests_for_phone(session, phone)
        target = next((b for b in requests if b.id == ref), None)
        if target is None and ref is None and len(requests) == 1:
            target = requests[0]
        if target is None:
            return StayNote(None, requests, name)
        added = add_note_for_phone(session, phone, target.id, note, message_id)
        return StayNote(added, requests, name)


def utter_added(dispatcher: CollectingDispatcher, done: StayNote, note: str) -> None:
    """Reply e.g. 'Thanks Sam, I added "crib" to request R1. Not guaranteed: ...'."""
    booking = done.added_to
    assert booking is not None
    utter_personal(
        dispatcher,
        "utter_stay_note_added",
        done.first_name,
        note=shorten(note, NOTE_IN_REPLY),
        ref=booking.ref,
        span=booking_span(booking.check_in, booking.check_out),
    )


def route(value: str) -> List[Dict[Text, Any]]:
    """Tell the rules what comes next: the form, nothing (noted) or the "which?" question."""
    return [SlotSet("stay_route", value)]


class ActionStayRequest(SafeAction):
    def name(self) -> Text:
        return "action_stay_request"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        text = tracker.latest_message.get("text") or ""
        phone = sender_phone(tracker)
        note = None if is_new_booking(text) else stay_note(text)
        if phone is None or note is None:
            return route("form")
        ref = requested_ref(tracker)
        done = await run_sync(attach, phone, note, ref, turn_id(tracker))
        if done.added_to is not None:
            utter_added(dispatcher, done, note)
            return [*route("note"), SlotSet("stay_note", None)]
        if not done.open_requests:
            return route("form")
        if ref is not None:
            dispatcher.utter_message(response="utter_request_not_found", ref=f"R{ref}")
        return [*route("which"), SlotSet("stay_note", note), SlotSet("stay_note_ref", None)]


class ActionAttachStayNote(SafeAction):
    """After stay_note_form: add the waiting note to the request the customer picked."""

    def name(self) -> Text:
        return "action_attach_stay_note"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        clear = [SlotSet("stay_note", None), SlotSet("stay_note_ref", None)]
        note = tracker.get_slot("stay_note")
        picked = tracker.get_slot("stay_note_ref") or ""
        phone = sender_phone(tracker)
        if not note or not re.fullmatch(r"R\d+", picked) or phone is None:
            dispatcher.utter_message(response="utter_stay_note_not_added")
            return clear
        done = await run_sync(attach, phone, note, int(picked[1:]), turn_id(tracker))
        if done.added_to is None:
            dispatcher.utter_message(response="utter_request_not_found", ref=picked)
        else:
            utter_added(dispatcher, done, note)
        return clear
