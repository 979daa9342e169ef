"""action_submit_booking: store the confirmed request on the customer's file."""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.booking_form import FORM_SLOTS
from actions.identity import sender_phone, turn_id
from actions.personal import utter_personal
from actions.safe_action import SafeAction
from actions.settings import action_settings
from bot.outbound.surveys import ask_csat_after_task
from bot.store.bookings import BookingView, create_booking_request
from bot.store.customers import first_name_for_phone
from bot.store.db import run_sync, session_scope
from bot.text.stay_span import booking_span


def store(phone: str, tracker: Tracker) -> Tuple[BookingView, Optional[str]]:
    """The stored request and the customer's first name."""
    notes: Optional[str] = tracker.get_slot("special_requests")
    room = tracker.get_slot("room_type")
    with session_scope(action_settings().database_url) as session:
        booking = create_booking_request(
            session,
            phone,
            dt.date.fromisoformat(tracker.get_slot("checkin")),
            dt.date.fromisoformat(tracker.get_slot("checkout")),
            int(tracker.get_slot("guests")),
            None if room == "any" else room,
            None if notes == "none" else notes,
            message_id=turn_id(tracker),
        )
        # CSAT_AFTER_BOT_TASKS: a room request the assistant took alone is rated later
        ask_csat_after_task(session, action_settings(), phone, f"booking-{booking.id}")
        return booking, first_name_for_phone(session, phone)


def clear_form() -> List[Dict[Text, Any]]:
    return [SlotSet(slot, None) for slot in (*FORM_SLOTS, "booking_confirmed")]


class ActionSubmitBooking(SafeAction):
    def name(self) -> Text:
        return "action_submit_booking"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        if not tracker.get_slot("booking_confirmed"):
            dispatcher.utter_message(response="utter_booking_discarded")
            return clear_form()
        phone = sender_phone(tracker)
        if phone is None:
            dispatcher.utter_message(response="utter_need_phone")
            return clear_form()
        booking, name = await run_sync(store, phone, tracker)
        utter_personal(
            dispatcher,
            "utter_booking_stored",
            name,
            ref=booking.ref,
            span=booking_span(booking.check_in, booking.check_out),
        )
        return clear_form()
