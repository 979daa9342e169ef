"""Base class: an action that never crashes the conversation.

A database outage or a bug becomes a polite SMS, a log line with the traceback, and
(when the database allows) a handoff request so a person follows up.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.identity import conversation_topic, sender_phone, turn_id
from actions.settings import action_settings
from bot.store.db import run_sync, session_scope
from bot.store.handoffs import record_handoff, team_for

logger = logging.getLogger(__name__)


def _record_error_handoff(
    phone: str, team: str, detail: str, message_id: Optional[str] = None
) -> None:
    with session_scope(action_settings().database_url) as session:
        record_handoff(session, phone, "action_error", team, detail, message_id)


class SafeAction(Action, ABC):
    """Subclasses implement `act`; `run` turns any exception into a polite reply."""

    @abstractmethod
    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        """The action's real work."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        try:
            return await self.act(dispatcher, tracker, domain)
        except Exception as error:  # noqa: BLE001 - every failure must end politely
            logger.exception("action %s failed for %s", self.name(), tracker.sender_id)
            dispatcher.messages.clear()
            dispatcher.utter_message(response="utter_trouble")
            phone = sender_phone(tracker)
            if phone:
                try:
                    team = team_for(
                        "action_error",
                        conversation_topic(tracker),
                        action_settings().reason_teams,
                    )
                    await run_sync(
                        _record_error_handoff,
                        phone,
                        team,
                        f"{self.name()}: {error!r}",
                        turn_id(tracker),
                    )
                except Exception:  # noqa: BLE001
                    logger.exception("could not record handoff after action error")
            return []
