"""Sessions that end before they get long: a message's cost stays flat however long a chat runs.

Rasa ends a session only after `session_expiration_time` of silence, and every message reads
and replays the whole current session (tracker load, policies, the tracker sent to the action
server), so a customer who keeps texting pays more for each text. Two patches, installed once
per process at start-up (`install()`, from bot/rasa_ext/server.py), start a new session at
the start of a message when:

- the session holds `max_events` events or more (the size limit: `session_max_events` of the
  tracker store in endpoints.yml, else Settings.session_max_events (SESSION_MAX_EVENTS),
  which BotSQLTrackerStore reads when Rasa builds it; DEFAULT_MAX_EVENTS otherwise), or
- the last turn closed a topic: a person resolved the chat (`action_handback`) or the bot
  said goodbye (`utter_goodbye`),

and only at a safe point: no form or fallback loop is active and the conversation is not
paused. Every rule and story of this assistant starts from a user intent or an active loop,
so outside a loop no prediction depends on earlier turns and the new session answers as the
old one would have. The session start is Rasa's own `action_session_start` (the idle expiry
path), plus `SlotSet`s carrying over CARRIED_SLOTS: context a later text may refer back to.
Who the customer is needs no slot: it is the sender id (the phone number), and names come
from the database. An idle expiry carries over nothing, as before.

Old sessions stay in the events table; agents read transcripts from the bot's own `messages`
table (bot/desk/transcript.py), which sessions do not touch.
"""

from __future__ import annotations

import logging
from typing import Any, List, Optional, Set, Tuple

from rasa.shared.core.events import ActionExecuted, Event, SessionStarted, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa_ext import store_layers
from bot.rasa_ext.once import once
from bot.settings import DEFAULT_SESSION_MAX_EVENTS, MIN_SESSION_MAX_EVENTS

logger = logging.getLogger(__name__)

DEFAULT_MAX_EVENTS = DEFAULT_SESSION_MAX_EVENTS  # about 22 texts (5-6 events each)
TOPIC_CLOSERS = frozenset({"action_handback", "utter_goodbye"})
CARRIED_SLOTS = ("order_number",)  # "where is it now?" after a roll-over still knows the order
LISTEN = "action_listen"

# Senders whose session start about to run is a roll-over (it runs on a copy of the tracker,
# right after the check, under the conversation's lock).
_rolling: Set[str] = set()


def events_in_session(tracker: DialogueStateTracker) -> int:
    """Events after the tracker's latest `session_started` (all of them if it has none)."""
    count = 0
    for event in reversed(tracker.events):
        if isinstance(event, SessionStarted):
            break
        count += 1
    return count


def last_bot_action(tracker: DialogueStateTracker) -> Optional[str]:
    """The latest action other than listening in the current session, if any."""
    for event in reversed(tracker.events):
        if isinstance(event, SessionStarted):
            return None
        if isinstance(event, ActionExecuted) and event.action_name not in (None, LISTEN):
            return event.action_name
    return None


def rollover_reason(tracker: DialogueStateTracker, max_events: int) -> Optional[str]:
    """The reason ("size" or "topic") to start a new session now, or None."""
    if tracker.active_loop_name is not None or tracker.is_paused():
        return None
    if events_in_session(tracker) >= max_events:
        return "size"
    if last_bot_action(tracker) in TOPIC_CLOSERS:
        return "topic"
    return None


def carried_slots(tracker: DialogueStateTracker) -> List[Tuple[str, Any]]:
    """(name, value) of the CARRIED_SLOTS that have a value."""
    slots = [(name, tracker.slots[name].value) for name in CARRIED_SLOTS if name in tracker.slots]
    return [(name, value) for name, value in slots if value is not None]


def with_carried_slots(events: List[Event], carried: List[Tuple[str, Any]]) -> List[Event]:
    """The session start's events with SlotSets for `carried` right after `session_started`."""
    present = {e.key for e in events if isinstance(e, SlotSet)}
    extra = [SlotSet(name, value) for name, value in carried if name not in present]
    at = next((i + 1 for i, e in enumerate(events) if isinstance(e, SessionStarted)), 0)
    return events[:at] + extra + events[at:]


def configured_max_events(given: Optional[int] = None) -> int:
    """The size limit: `given` (endpoints.yml or the settings), else the default."""
    value = given if given is not None else DEFAULT_MAX_EVENTS
    if value < MIN_SESSION_MAX_EVENTS:
        raise ValueError(
            f"session_max_events must be at least {MIN_SESSION_MAX_EVENTS}, got {value}"
        )
    return value


def configured_limit(store: Any) -> Optional[int]:
    """`session_max_events` of the agent's tracker store, under any of Rasa's wrappers."""
    for layer in store_layers.layers(store):
        limit = getattr(layer, "session_max_events", None)
        if limit:
            return int(limit)
    return None


@once
def install() -> None:
    """Patch Rasa's session check and session start (once per process).

    The size limit is the tracker store's `session_max_events` when it has one (read on
    each check, so it follows the store endpoints.yml configured), else the default.
    """
    default_max_events = DEFAULT_MAX_EVENTS
    from rasa.core.actions.action import ActionSessionStart
    from rasa.core.processor import MessageProcessor

    expired = MessageProcessor._has_session_expired
    start = ActionSessionStart.run

    def has_session_expired(self: MessageProcessor, tracker: DialogueStateTracker) -> bool:
        _rolling.discard(tracker.sender_id)
        if expired(self, tracker):
            return True
        limit = configured_limit(self.tracker_store) or default_max_events
        reason = rollover_reason(tracker, limit)
        if reason is None:
            return False
        logger.debug("new session for %s: %s", tracker.sender_id, reason)
        _rolling.add(tracker.sender_id)
        return True

    async def run(
        self: ActionSessionStart,
        output_channel: Any,
        nlg: Any,
        tracker: DialogueStateTracker,
        domain: Any,
    ) -> List[Event]:
        events = await start(self, output_channel, nlg, tracker, domain)
        if tracker.sender_id not in _rolling:
            return events
        _rolling.discard(tracker.sender_id)
        return with_carried_slots(events, carried_slots(tracker))

    MessageProcessor._has_session_expired = has_session_expired
    ActionSessionStart.run = run
