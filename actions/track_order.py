"""action_track_order: status of one of the sender's orders, never anyone else's."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.identity import sender_phone
from actions.order_text import not_found_text, order_list_text, order_status_text
from actions.safe_action import SafeAction
from bot.db import run_sync, session_scope
from bot.orders import OrderView, find_order_for_phone, recent_orders_for_phone
from bot.orders_format import find_order_number, normalise_order_number


def requested_order_number(tracker: Tracker) -> Optional[str]:
    """Order number from this message's entity or text, else the one discussed before."""
    entity = next(tracker.get_latest_entity_values("order_number"), None)
    if entity:
        return normalise_order_number(str(entity))
    in_text = find_order_number(tracker.latest_message.get("text") or "")
    return in_text or tracker.get_slot("order_number")


def lookup(
    phone: Optional[str], number: Optional[str]
) -> Tuple[Optional[OrderView], List[OrderView]]:
    if phone is None:
        return None, []
    with session_scope() as session:
        if number:
            return find_order_for_phone(session, phone, number), []
        return None, recent_orders_for_phone(session, phone)


class ActionTrackOrder(SafeAction):
    def name(self) -> Text:
        return "action_track_order"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        number = requested_order_number(tracker)
        order, recent = await run_sync(lookup, sender_phone(tracker), number)
        if number:
            dispatcher.utter_message(
                text=order_status_text(order) if order else not_found_text(number)
            )
            return [SlotSet("order_number", number if order else None)]
        if len(recent) == 1:
            dispatcher.utter_message(text=order_status_text(recent[0]))
            return [SlotSet("order_number", recent[0].number)]
        if recent:
            dispatcher.utter_message(text=order_list_text(recent))
            return []
        dispatcher.utter_message(response="utter_ask_order_number")
        return []
