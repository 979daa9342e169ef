"""stay_note_form: "Add it to which request? R1 (Dec 5-8) or R2 (Dec 20-22)? Text e.g. R1."

Opened by action_stay_request when a customer with several open requests asks for
something about a stay; the answer ("R2", "r 2", "2") fills `stay_note_ref`, then
action_attach_stay_note adds the note. "no" leaves it; questions are answered on the way;
a new booking ("book a room dec 5-8") drops the note and starts the room-request form.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.booking_requests import list_requests, requested_ref
from actions.booking_submit import booking_span
from actions.identity import sender_phone
from actions.safe_action import SafeAction
from bot.store.bookings import BookingView
from bot.store.db import run_sync
from bot.text.booking_parse import is_no_request
from bot.text.stay_notes import is_new_booking

# Intents answered on the way (rules in data/rules/stay_requests.yml), the form resumes.
INTERRUPTIONS = {"faq", "track_order", "menu", "my_requests", "bot_challenge", "out_of_scope"}
# Intents that mean "leave it".
STOPPERS = {"deny", "goodbye", "cancel_request"}
logger = logging.getLogger(__name__)
UNREADABLE = "?"
NONE = "none"
_BARE_NUMBER = re.compile(r"^\s*#?\s*(\d{1,6})\s*[.!)]?\s*$")


def choices_text(requests: List[BookingView]) -> str:
    """The choices, e.g. "R1 (Dec 5-8), R2 (Dec 20-22) or R3 (Jan 2-4)" (up to 4)."""
    named = [f"{b.ref} ({booking_span(b.check_in, b.check_out)})" for b in requests[:4]]
    return named[0] if len(named) == 1 else f"{', '.join(named[:-1])} or {named[-1]}"


def pick(value: str, requests: List[BookingView]) -> Optional[BookingView]:
    """The open request a reply picks: "R7" is R7; "#2" is R2, else the 2nd listed."""
    number = int(value.lstrip("R#"))
    found = next((b for b in requests if b.id == number), None)
    if found is None and value.startswith("#") and 1 <= number <= min(len(requests), 4):
        found = requests[number - 1]
    return found


class ActionAskStayNoteRef(SafeAction):
    def name(self) -> Text:
        return "action_ask_stay_note_ref"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        requests = await run_sync(list_requests, sender_phone(tracker))
        if not requests:
            dispatcher.utter_message(response="utter_no_requests")
            return []
        dispatcher.utter_message(
            response="utter_ask_stay_note_ref",
            choices=choices_text(requests),
            example=requests[0].ref,
        )
        return []


class ValidateStayNoteForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_stay_note_form"

    async def extract_stay_note_ref(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """A ref or a number when asked; "none" for no; nothing for a question or AGENT."""
        if tracker.get_slot("requested_slot") != "stay_note_ref":
            return {}
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        text = tracker.latest_message.get("text") or ""
        if intent == "human_handoff":
            return {}
        if intent in STOPPERS or is_no_request(text):
            return {"stay_note_ref": NONE}
        if intent == "book_room" and is_new_booking(text):
            return {}  # a new booking after all: the rules start the room-request form
        ref = requested_ref(tracker)
        if ref is not None:
            return {"stay_note_ref": f"R{ref}"}
        bare = _BARE_NUMBER.match(text)
        if bare:
            return {"stay_note_ref": f"#{bare.group(1)}"}
        return {} if intent in INTERRUPTIONS else {"stay_note_ref": UNREADABLE}

    async def validate_stay_note_ref(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """One of the sender's open requests (as "R7"), or "none"; else asked again."""
        if value == NONE:
            return {"stay_note_ref": NONE}
        if not isinstance(value, str) or value == UNREADABLE:
            return {"stay_note_ref": None}
        try:
            requests = await run_sync(list_requests, sender_phone(tracker))
        except Exception:  # noqa: BLE001 - action_attach_stay_note checks again, politely
            logger.exception("could not check request %s for %s", value, tracker.sender_id)
            return {"stay_note_ref": value}
        found = pick(value, requests)
        if found is None:
            dispatcher.utter_message(response="utter_request_not_found", ref=f"R{value[1:]}")
            return {"stay_note_ref": None}
        return {"stay_note_ref": found.ref}
