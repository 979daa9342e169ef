"""action_ask_booking_confirmed: one-SMS summary of the request before storing it."""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.booking_submit import booking_span
from bot.sms.customer_text import shorten

# UTF-16 units of the customer's notes quoted in the summary: typed notes may be UCS-2, and
# the question with its buttons must still fit two segments (data/checks.yml summary).
NOTES_IN_SUMMARY = 35


def summary(tracker: Tracker) -> str:
    """E.g. 'Dec 5-8 (3 nights), 2 guests, king room, notes: "2 beds"'."""
    check_in = dt.date.fromisoformat(tracker.get_slot("checkin"))
    check_out = dt.date.fromisoformat(tracker.get_slot("checkout"))
    nights = (check_out - check_in).days
    guests = int(tracker.get_slot("guests"))
    room = tracker.get_slot("room_type")
    notes = tracker.get_slot("special_requests")
    parts = [
        f"{booking_span(check_in, check_out)} ({nights} night{'s' if nights != 1 else ''})",
        f"{guests} guest{'s' if guests != 1 else ''}",
        "any room" if room == "any" else f"{room} room",
    ]
    if notes and notes != "none":
        parts.append(f'notes: "{shorten(notes, NOTES_IN_SUMMARY)}"')
    return ", ".join(parts)


class ActionAskBookingConfirmed(Action):
    def name(self) -> Text:
        return "action_ask_booking_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(
            response="utter_ask_booking_confirmed",
            summary=summary(tracker),
            buttons=[
                {"title": "Yes", "payload": "/affirm"},
                {"title": "No", "payload": "/deny"},
            ],
        )
        return []
