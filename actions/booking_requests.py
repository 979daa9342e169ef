"""action_list_requests / action_cancel_request: the customer's requests on file, each with
its status (requested, confirmed by staff, declined); cancelled ones are left out."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.identity import sender_phone
from actions.personal import utter_personal
from actions.safe_action import SafeAction
from actions.settings import action_settings
from bot.store.bookings import (
    CANCELLABLE,
    BookingView,
    cancel_request_for_phone,
    cancellable_requests_for_phone,
    open_requests_for_phone,
    requests_on_file_for_phone,
)
from bot.store.customers import first_name_for_phone
from bot.store.db import run_sync, session_scope
from bot.text.stay_span import booking_span

_REF = re.compile(r"(?<![A-Za-z0-9])[Rr]-?\s?(\d{1,6})(?![0-9])")


def describe(booking: BookingView) -> str:
    """E.g. "R2 Dec 12-14, 2p, king: confirmed"."""
    room = f", {booking.room_type}" if booking.room_type else ""
    span = booking_span(booking.check_in, booking.check_out)
    return f"{booking.ref} {span}, {booking.guests}p{room}: {booking.status}"


def requested_ref(tracker: Tracker) -> Optional[int]:
    entity = next(tracker.get_latest_entity_values("request_ref"), None)
    match = _REF.search(str(entity or "")) or _REF.search(tracker.latest_message.get("text") or "")
    return int(match.group(1)) if match else None


def list_requests(phone: Optional[str]) -> List[BookingView]:
    """The sender's requests waiting for staff (where a stay note goes)."""
    if phone is None:
        return []
    with session_scope(action_settings().database_url) as session:
        return open_requests_for_phone(session, phone)


def requests_on_file(phone: Optional[str]) -> List[BookingView]:
    """The sender's requests with their status (never another number's)."""
    if phone is None:
        return []
    with session_scope(action_settings().database_url) as session:
        return requests_on_file_for_phone(session, phone)


def listing(requests: List[BookingView]) -> Dict[str, str]:
    """The `requests` and `example` values of a reply that lists requests (up to 4); the
    example is one the customer can still cancel."""
    example = next((b for b in requests if b.status in CANCELLABLE), requests[0])
    return {"requests": "; ".join(describe(b) for b in requests[:4]), "example": example.ref}


def cancel(
    phone: Optional[str], ref: Optional[int]
) -> Tuple[Optional[BookingView], List[BookingView], Optional[str]]:
    """(the cancelled request, the open ones when no ref was given, the first name)."""
    if phone is None:
        return None, [], None
    with session_scope(action_settings().database_url) as session:
        name = first_name_for_phone(session, phone)
        if ref is None:
            return None, cancellable_requests_for_phone(session, phone), name
        return cancel_request_for_phone(session, phone, ref), [], name


class ActionListRequests(SafeAction):
    def name(self) -> Text:
        return "action_list_requests"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        requests = await run_sync(requests_on_file, sender_phone(tracker))
        if not requests:
            dispatcher.utter_message(response="utter_no_requests")
            return []
        if any(b.status in CANCELLABLE for b in requests):
            dispatcher.utter_message(response="utter_requests_on_file", **listing(requests))
        else:
            dispatcher.utter_message(
                response="utter_requests_on_file_closed", requests=listing(requests)["requests"]
            )
        return []


class ActionCancelRequest(SafeAction):
    def name(self) -> Text:
        return "action_cancel_request"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        ref = requested_ref(tracker)
        cancelled, open_requests, name = await run_sync(cancel, sender_phone(tracker), ref)
        if cancelled:
            utter_personal(dispatcher, "utter_request_cancelled", name, ref=cancelled.ref)
        elif ref is not None:
            dispatcher.utter_message(response="utter_request_not_found", ref=f"R{ref}")
        elif open_requests:
            dispatcher.utter_message(response="utter_which_request", **listing(open_requests))
        else:
            dispatcher.utter_message(response="utter_no_requests")
        return []
