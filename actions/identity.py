"""Who is texting: the sender id, which only a signed channel can vouch for."""

from typing import Optional

from rasa_sdk import Tracker

from actions.settings import action_settings
from bot.text.phone import to_e164


def sender_phone(tracker: Tracker) -> Optional[str]:
    """The texting customer's E.164 number, or None if the sender id is not a phone."""
    return to_e164(tracker.sender_id, action_settings().default_country_code)


def turn_id(tracker: Tracker) -> Optional[str]:
    """The id of the text this turn answers (its MessageUUID over SMS): writes made for
    it are recorded under it, so a turn replayed after a crash does not write twice."""
    message_id = (tracker.latest_message or {}).get("message_id")
    return str(message_id) if message_id else None


TASK_TOPICS = {
    "track_order": "orders",
    "book_room": "bookings",
    "my_requests": "bookings",
    "cancel_request": "bookings",
}


def _topic_of(parse: dict) -> Optional[str]:
    """The team a parsed text's task belongs to (`handoff_task` first), if any."""
    intent = parse.get("handoff_task") or (parse.get("intent") or {}).get("name")
    return TASK_TOPICS.get(intent or "")


def conversation_topic(tracker: Tracker) -> Optional[str]:
    """`orders` or `bookings` when the latest task-related intent points there.

    A text that asked for a person and named a task ("get me an agent, my package is
    lost") carries that task as `handoff_task` (bot.rasa_ext.nlu.person_request).
    """
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        topic = _topic_of(event.get("parse_data") or {})
        if topic:
            return topic
    return None


def named_topic(tracker: Tracker) -> Optional[str]:
    """The topic the latest text itself named ("I need a human, my order never arrived")."""
    return _topic_of(tracker.latest_message or {})
