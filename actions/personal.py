"""Personal replies: the texting customer's first name, looked up by the sender's phone only."""

from __future__ import annotations

import logging
from typing import Any, Optional

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.identity import sender_phone
from actions.settings import action_settings
from bot.sms.customer_text import fold_name, fold_values
from bot.store.customers import first_name_for_phone
from bot.store.db import run_sync, session_scope

logger = logging.getLogger(__name__)
NAME_IN_REPLY = 20  # characters: a long name must not push a reply past one segment
# (data/checks.yml placeholder_max_length first_name; folded to GSM-7, see fold_name)
# Each personal reply and its wording with {first_name} (domain.yml responses).
NAMED = {
    "utter_greet": "utter_greet_named",
    "utter_booking_stored": "utter_booking_stored_named",
    "utter_request_cancelled": "utter_request_cancelled_named",
    "utter_stay_note_added": "utter_stay_note_added_named",
}


def lookup_first_name(phone: Optional[str]) -> Optional[str]:
    """The first name on file for this phone, or None."""
    if phone is None:
        return None
    with session_scope(action_settings().database_url) as session:
        return first_name_for_phone(session, phone)


async def first_name(tracker: Tracker) -> Optional[str]:
    """The sender's first name; None if unknown or unreadable now (the reply goes out plain)."""
    try:
        return await run_sync(lookup_first_name, sender_phone(tracker))
    except Exception:  # noqa: BLE001 - a greeting without a name beats an error
        logger.warning("no first name for %s", tracker.sender_id, exc_info=True)
        return None


def utter_personal(
    dispatcher: CollectingDispatcher, response: str, name: Optional[str], **values: Any
) -> None:
    """The response's NAMED wording with the first name when there is one, else the plain."""
    name = name_in_reply(name)
    if name:
        values = fold_values({**values, "first_name": name})
        dispatcher.utter_message(response=NAMED[response], **values)
    else:
        dispatcher.utter_message(response=response, **values)


def name_in_reply(name: Optional[str]) -> Optional[str]:
    """The name as a reply uses it: folded to GSM-7 ("Zoë" -> "Zoe"); a long one by its
    first part, or not at all."""
    name = fold_name(name) if name else None
    if not name or len(name) <= NAME_IN_REPLY:
        return name
    part = name.split("-", 1)[0]
    return part if len(part) <= NAME_IN_REPLY else None
