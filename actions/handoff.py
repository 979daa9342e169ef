"""Handing the conversation to a person: action_handoff and the final fallback."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from actions.identity import conversation_topic, sender_phone
from actions.safe_action import SafeAction
from bot.db import run_sync, session_scope
from bot.handoffs import HandoffView, record_handoff, team_for


def _record(phone: str, reason: str, team: str, detail: Optional[str]) -> HandoffView:
    with session_scope() as session:
        return record_handoff(session, phone, reason, team, detail)


def handoff_reason(tracker: Tracker) -> str:
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    return "asked" if intent == "human_handoff" else "fallback"


async def hand_off(tracker: Tracker, reason: str) -> Optional[HandoffView]:
    phone = sender_phone(tracker)
    if phone is None:
        return None
    detail = (tracker.latest_message.get("text") or "")[:500]
    return await run_sync(
        _record, phone, reason, team_for(reason, conversation_topic(tracker)), detail
    )


class ActionHandoff(SafeAction):
    def name(self) -> Text:
        return "action_handoff"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        await hand_off(tracker, handoff_reason(tracker))
        dispatcher.utter_message(response="utter_handoff")
        return []


class ActionDefaultFallback(SafeAction):
    """Replaces Rasa's default: after clarifying failed twice, offer a person."""

    def name(self) -> Text:
        return "action_default_fallback"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        await hand_off(tracker, "fallback")
        dispatcher.utter_message(response="utter_handoff_fallback")
        # Like Rasa's default: forget the message nobody understood, so the bot listens.
        return [UserUtteranceReverted()]
