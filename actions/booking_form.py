"""validate_booking_form: reads dates, guests, room type and requests from texter language.

Every form slot has a `custom` mapping: the extract_ methods below read the latest text
(also on the message that opened the form, so "2 ppl dec 5-8" fills three slots at once),
and the validate_ methods turn bad values into a clear re-ask.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.settings import action_settings
from bot.text.booking_parse import (
    is_no_request,
    parse_dates,
    parse_guests,
    parse_nights,
    parse_room_type,
    special_request_phrases,
)

FORM_SLOTS = ("checkin", "checkout", "guests", "room_type", "special_requests")
# Intents that interrupt the form rather than answer its question.
INTERRUPTIONS = {
    "faq",
    "human_handoff",
    "track_order",
    "menu",
    "my_requests",
    "cancel_request",
    "bot_challenge",
    "greet",
    "goodbye",
    "out_of_scope",
}
UNREADABLE = "?"
ANY_ROOM = {
    "any",
    "anything",
    "whatever",
    "no preference",
    "dont care",
    "don't care",
    "doesnt matter",
    "doesn't matter",
    "idc",
    "either",
    "any is fine",
    "whichever",
}


def _text(tracker: Tracker) -> str:
    return (tracker.latest_message.get("text") or "").strip()


def _intent(tracker: Tracker) -> Optional[str]:
    return (tracker.latest_message.get("intent") or {}).get("name")


def _answering(tracker: Tracker, slot: str) -> bool:
    """The customer is answering our question for `slot` (not changing the subject)."""
    return tracker.get_slot("requested_slot") == slot and _intent(tracker) not in INTERRUPTIONS


def _opening_or_in_form(tracker: Tracker) -> bool:
    return _intent(tracker) == "book_room" or tracker.get_slot("requested_slot") in FORM_SLOTS


def _iso(day: Optional[dt.date]) -> Optional[str]:
    return day.isoformat() if day else None


def fmt_day(iso: str) -> str:
    day = dt.date.fromisoformat(iso)
    return f"{day:%a %b} {day.day}"


class ValidateBookingForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_booking_form"

    # --- extraction -----------------------------------------------------------------

    async def extract_checkin(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """Check-in: when asked for, when a range is given, or in the opening text."""
        if not _opening_or_in_form(tracker):
            return {}
        requested = tracker.get_slot("requested_slot")
        check_in, check_out = parse_dates(_text(tracker))
        if requested == "checkin":
            if check_in:
                return {"checkin": check_in.isoformat()}
            return {"checkin": UNREADABLE} if _intent(tracker) not in INTERRUPTIONS else {}
        if check_in and (check_out or requested is None):
            return {"checkin": check_in.isoformat()}
        return {}

    async def extract_checkout(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """Check-out: a second date, "N nights" after check-in, or the one date when asked."""
        if not _opening_or_in_form(tracker):
            return {}
        text = _text(tracker)
        check_in, check_out = parse_dates(text)
        if tracker.get_slot("requested_slot") == "checkout" and check_in and not check_out:
            check_out = check_in  # one date given while we asked for check-out
        nights = parse_nights(text)
        known_checkin = tracker.get_slot("checkin")
        if not check_out and nights and known_checkin not in (None, UNREADABLE):
            check_out = dt.date.fromisoformat(known_checkin) + dt.timedelta(days=nights)
        if check_out:
            return {"checkout": check_out.isoformat()}
        if _answering(tracker, "checkout"):
            return {"checkout": UNREADABLE}
        return {}

    async def extract_guests(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if not _opening_or_in_form(tracker):
            return {}
        asked = tracker.get_slot("requested_slot") == "guests"
        guests = parse_guests(_text(tracker), bare_number_ok=asked)
        if guests is not None:
            return {"guests": float(guests)}
        if _answering(tracker, "guests"):
            return {"guests": -1.0}
        return {}

    async def extract_room_type(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if not _opening_or_in_form(tracker):
            return {}
        text = _text(tracker)
        room = parse_room_type(text)
        if room:
            return {"room_type": room}
        if _answering(tracker, "room_type"):
            cleaned = text.lower().strip(" .!")
            return {"room_type": "any" if cleaned in ANY_ROOM else UNREADABLE}
        return {}

    async def extract_special_requests(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        text = _text(tracker)
        asked = tracker.get_slot("requested_slot") == "special_requests"
        if asked and (is_no_request(text) or _intent(tracker) == "deny"):
            return {"special_requests": "none"}
        if asked and _intent(tracker) not in INTERRUPTIONS - {"greet", "goodbye"}:
            return {"special_requests": text[:300]}
        phrases = special_request_phrases(text)
        if _intent(tracker) == "book_room" and phrases:
            if tracker.get_slot("special_requests") in (None, "none"):
                return {"special_requests": phrases}
        return {}

    # --- validation -------------------------------------------------------------------

    def validate_checkin(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if value == UNREADABLE:
            dispatcher.utter_message(response="utter_date_unreadable")
            return {"checkin": None}
        day = dt.date.fromisoformat(value)
        today = dt.date.today()
        if day < today:
            dispatcher.utter_message(response="utter_date_in_past")
            return {"checkin": None}
        if day > today + dt.timedelta(days=action_settings().booking_horizon_days):
            dispatcher.utter_message(response="utter_date_too_far")
            return {"checkin": None}
        return {"checkin": value}

    def validate_checkout(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if value == UNREADABLE:
            dispatcher.utter_message(response="utter_date_unreadable")
            return {"checkout": None}
        checkin = tracker.get_slot("checkin")
        if not checkin or checkin == UNREADABLE:
            return {"checkout": value}  # checked again once check-in is known
        nights = (dt.date.fromisoformat(value) - dt.date.fromisoformat(checkin)).days
        if nights <= 0:
            dispatcher.utter_message(
                response="utter_checkout_before_checkin", checkin=fmt_day(checkin)
            )
            return {"checkout": None}
        if nights > action_settings().max_booking_nights:
            dispatcher.utter_message(
                response="utter_stay_too_long", max_nights=action_settings().max_booking_nights
            )
            return {"checkout": None}
        return {"checkout": value}

    def validate_guests(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        limit = action_settings().max_booking_guests
        try:
            guests = int(float(value))
        except (TypeError, ValueError):
            guests = -1
        if guests < 0:
            dispatcher.utter_message(response="utter_guests_unreadable")
            return {"guests": None}
        if not 1 <= guests <= limit:
            dispatcher.utter_message(response="utter_guests_out_of_range", max_guests=limit)
            return {"guests": None}
        return {"guests": float(guests)}

    def validate_room_type(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if value == UNREADABLE:
            dispatcher.utter_message(response="utter_room_type_unknown")
            return {"room_type": None}
        return {"room_type": value}

    def validate_special_requests(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return {"special_requests": str(value).strip()[:300] or "none"}
