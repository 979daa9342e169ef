"""Handing the conversation to a person: action_handoff and the final fallback."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from actions.identity import conversation_topic, named_topic, sender_phone, turn_id
from actions.safe_action import SafeAction
from actions.settings import action_settings
from bot.desk.notices import HandoffNotice, handoff_notice
from bot.store.db import run_sync, session_scope
from bot.store.handoffs import record_handoff, team_for
from bot.store.ownership import ownership_of


def _record(
    phone: str, reason: str, team: str, detail: Optional[str], message_id: Optional[str]
) -> HandoffNotice:
    """Queue the conversation for a person and say what the texter should expect."""
    with session_scope(action_settings().database_url) as session:
        record_handoff(session, phone, reason, team, detail, message_id)
        return handoff_notice(session, ownership_of(session, phone), action_settings())


def handoff_reason(tracker: Tracker) -> str:
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    return "asked" if intent == "human_handoff" else "fallback"


def customer_words(tracker: Tracker) -> str:
    """The latest text the customer typed (a button's "/intent" payload is not words)."""
    latest = tracker.latest_message.get("text") or ""
    if not latest.startswith("/"):
        return latest
    for event in reversed(tracker.events):
        text = (event.get("text") or "") if event.get("event") == "user" else ""
        if text and not text.startswith("/"):
            return text
    return latest


def say(dispatcher: CollectingDispatcher, notice: HandoffNotice) -> None:
    """The notice's own text, else its response from the domain."""
    if notice.text:
        dispatcher.utter_message(text=notice.text)
    else:
        dispatcher.utter_message(response=notice.response, **notice.values)


async def hand_off(tracker: Tracker, reason: str) -> Optional[HandoffNotice]:
    phone = sender_phone(tracker)
    if phone is None:
        return None
    detail = customer_words(tracker)[:500]
    team = team_for(
        reason, conversation_topic(tracker), action_settings().reason_teams, named_topic(tracker)
    )
    return await run_sync(_record, phone, reason, team, detail, turn_id(tracker))


class ActionHandoff(SafeAction):
    def name(self) -> Text:
        return "action_handoff"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        notice = await hand_off(tracker, handoff_reason(tracker))
        if notice is None:  # not a phone: nobody can text back
            dispatcher.utter_message(response="utter_need_phone_for_person")
        else:
            say(dispatcher, notice)
        return []


class ActionDefaultFallback(SafeAction):
    """Replaces Rasa's default: after clarifying failed twice, offer a person."""

    def name(self) -> Text:
        return "action_default_fallback"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        return await give_up(dispatcher, tracker)


async def give_up(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[Dict[Text, Any]]:
    """Not understood after clarifying: say so, queue for a person, forget the text."""
    notice = await hand_off(tracker, "fallback")
    dispatcher.utter_message(response="utter_handoff_fallback")
    if notice is not None:
        say(dispatcher, notice)
    # Like Rasa's default: forget the message nobody understood, so the bot listens.
    return [UserUtteranceReverted()]


class ActionHandback(Action):
    """A person resolved the chat: remember it, and drop any half-finished form."""

    def name(self) -> Text:
        return "action_handback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        return [
            ActiveLoop(None),
            SlotSet("requested_slot", None),
            SlotSet("resolved_by_agent", True),
        ]
