"""action_track_order: status of one of the sender's orders, never anyone else's."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.identity import sender_phone
from actions.order_text import (
    carrier_orders_text,
    not_found_text,
    order_list_text,
    order_status_text,
)
from actions.safe_action import SafeAction
from actions.settings import action_settings
from bot.store.db import run_sync, session_scope
from bot.store.orders import (
    OPEN_STATUSES,
    OrderView,
    arrival_time,
    carrier_orders_for_phone,
    find_order_for_phone,
    notified_order_for_phone,
    open_orders_for_phone,
    recent_orders_for_phone,
)
from bot.text.carriers import find_carrier, same_carrier
from bot.text.orders_format import find_order_number, normalise_order_number


@dataclass(frozen=True)
class CarrierOrders:
    """The sender's orders with the carrier a text names, or their open orders if none."""

    carrier: str
    matches: List[OrderView]
    open_orders: List[OrderView]


def named_order_number(tracker: Tracker) -> Optional[str]:
    """Order number from this message's entity or text."""
    entity = next(tracker.get_latest_entity_values("order_number"), None)
    if entity:
        return normalise_order_number(str(entity))
    return find_order_number(tracker.latest_message.get("text") or "")


def requested_order_number(tracker: Tracker) -> Optional[str]:
    """Order number from this message's entity or text, else the one discussed before."""
    return named_order_number(tracker) or tracker.get_slot("order_number")


def order_settled_at(tracker: Tracker) -> Optional[dt.datetime]:
    """When a turn last set the `order_number` slot (naive UTC), None if never: the
    conversation has been about that order since. Slots a new session carries over are
    re-set at its start; those are not a turn settling on an order."""
    settled = None
    starting = False
    for event in tracker.events:
        kind = event.get("event")
        if kind == "session_started":
            starting = True
        elif kind == "user":
            starting = False
        elif kind == "slot" and event.get("name") == "order_number" and not starting:
            settled = event.get("timestamp")
    if settled is None:
        return None
    return dt.datetime.fromtimestamp(float(settled), dt.timezone.utc).replace(tzinfo=None)


def lookup_notified(phone: Optional[str], tracker: Tracker) -> Optional[str]:
    """The order of the newest notification that left before this text arrived (within a
    day), unless a turn has settled on an order since it left: "ok thanks", then "where is
    it?" still means the notified order; after "where is B2?" it means B2. Arrival times
    come from the inbound queue; a text not on it (the REST channel) arrived now."""
    if phone is None:
        return None
    uuid = tracker.latest_message.get("message_id")
    with session_scope(action_settings().database_url) as session:
        arrived = arrival_time(session, phone, str(uuid)) if uuid else None
        arrived = arrived or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        return notified_order_for_phone(session, phone, order_settled_at(tracker), arrived)


def lookup_number(phone: Optional[str], number: str) -> Optional[OrderView]:
    """The sender's order with that number, if it is theirs."""
    if phone is None:
        return None
    with session_scope(action_settings().database_url) as session:
        return find_order_for_phone(session, phone, number)


def lookup_recent(phone: Optional[str]) -> List[OrderView]:
    """The sender's most recent orders."""
    if phone is None:
        return []
    with session_scope(action_settings().database_url) as session:
        return recent_orders_for_phone(session, phone)


def lookup_carrier(phone: Optional[str], text: str) -> Optional[CarrierOrders]:
    """The sender's orders with the carrier the text names; None if it names none."""
    if phone is None:
        carrier = find_carrier(text)
        return CarrierOrders(carrier, [], []) if carrier else None
    with session_scope(action_settings().database_url) as session:
        shipped = carrier_orders_for_phone(session, phone)
        carrier = find_carrier(text, known={o.carrier for o in shipped if o.carrier})
        if carrier is None:
            return None
        matches = [o for o in shipped if same_carrier(o.carrier, carrier)]
        matches = [o for o in matches if o.status in OPEN_STATUSES] or matches
        open_orders = [] if matches else open_orders_for_phone(session, phone)
        return CarrierOrders(carrier, matches, open_orders)


class ActionTrackOrder(SafeAction):
    def name(self) -> Text:
        return "action_track_order"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        phone = sender_phone(tracker)
        named = named_order_number(tracker)
        if not named:
            text = tracker.latest_message.get("text") or ""
            by_carrier = await run_sync(lookup_carrier, phone, text)
            if by_carrier is not None:
                return self.answer_carrier(dispatcher, by_carrier)
        # a notification about an order that left since the conversation last settled
        # on one is what a reply ("TRACK", "where is it?") is about; else that order
        notified = None if named else await run_sync(lookup_notified, phone, tracker)
        number = named or notified or tracker.get_slot("order_number")
        if number:
            order = await run_sync(lookup_number, phone, number)
            dispatcher.utter_message(
                text=order_status_text(order) if order else not_found_text(number)
            )
            return [SlotSet("order_number", number if order else None)]
        recent = await run_sync(lookup_recent, phone)
        if len(recent) == 1:
            dispatcher.utter_message(text=order_status_text(recent[0]))
            return [SlotSet("order_number", recent[0].number)]
        if recent:
            dispatcher.utter_message(text=order_list_text(recent))
            return []
        dispatcher.utter_message(response="utter_ask_order_number")
        return []

    @staticmethod
    def answer_carrier(
        dispatcher: CollectingDispatcher, found: CarrierOrders
    ) -> List[Dict[Text, Any]]:
        """One order of that carrier: its status; several: the list; none: open orders."""
        if len(found.matches) == 1:
            order = found.matches[0]
            dispatcher.utter_message(text=order_status_text(order))
            return [SlotSet("order_number", order.number)]
        dispatcher.utter_message(
            text=carrier_orders_text(found.carrier, found.matches, found.open_orders)
        )
        return []
