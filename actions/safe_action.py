"""Base class: an action that never crashes the conversation.

A database outage or a bug becomes a polite SMS, a log line with the traceback, and
(when the database allows) a handoff request so a person follows up. A database that is
unreachable for a moment (a restart, a dead pooled connection) is waited out first: the
action runs again after 0.5, 1, 2 and 4 s (its writes are transactions, and writing
actions record the text's id, so a second run does not write twice).
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.identity import conversation_topic, sender_phone, turn_id
from actions.settings import action_settings
from bot.store.db import DATABASE_UNAVAILABLE, run_sync, session_scope
from bot.store.handoffs import record_handoff, team_for

logger = logging.getLogger(__name__)

DATABASE_RETRY_SECONDS = (0.5, 1.0, 2.0, 4.0)


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
        for delay in DATABASE_RETRY_SECONDS:
            try:
                return await self.act(dispatcher, tracker, domain)
            except DATABASE_UNAVAILABLE as error:
                logger.warning(
                    "action %s: database unavailable (%s); again in %.1f s",
                    self.name(),
                    type(error).__name__,
                    delay,
                )
                dispatcher.messages.clear()
                await asyncio.sleep(delay)
            except Exception as error:  # noqa: BLE001 - every failure must end politely
                return await self._give_up(error, dispatcher, tracker)
        try:
            return await self.act(dispatcher, tracker, domain)
        except Exception as error:  # noqa: BLE001
            return await self._give_up(error, dispatcher, tracker)

    async def _give_up(
        self, error: Exception, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> List[Dict[Text, Any]]:
        """The apology, the log line and, if the database allows, a handoff request."""
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
