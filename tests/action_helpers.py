"""Build real rasa_sdk Trackers and run actions the way the action server does."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.settings import PROJECT_ROOT


@lru_cache(maxsize=1)
def domain_dict() -> Dict[str, Any]:
    from rasa.shared.core.domain import Domain

    return Domain.load(str(PROJECT_ROOT / "domain.yml")).as_dict()


def make_tracker(
    sender: str,
    text: str,
    intent: str,
    entities: Optional[List[Dict[str, Any]]] = None,
    slots: Optional[Dict[str, Any]] = None,
    active_loop: Optional[str] = None,
    extra: Optional[Dict[str, Any]] = None,
) -> Tracker:
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "intent_ranking": [{"name": intent, "confidence": 0.9}],
        "entities": entities or [],
        **(extra or {}),
    }
    events = [{"event": "user", "text": text, "parse_data": latest}]
    return Tracker(
        sender_id=sender,
        slots=dict(slots or {}),
        latest_message=latest,
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


async def run_action(action: Action, tracker: Tracker) -> tuple[List[Dict], List[Dict]]:
    """(messages sent, events returned)."""
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, domain_dict())
    return dispatcher.messages, events


def texts(messages: List[Dict], domain: Optional[Dict[str, Any]] = None) -> List[str]:
    """Message texts, with `response=` names rendered from the domain like Rasa's NLG."""
    domain = domain or domain_dict()
    rendered = []
    for message in messages:
        if message.get("text"):
            rendered.append(message["text"])
        elif message.get("response"):
            template = domain["responses"][message["response"]][0]["text"]
            values = {k: v for k, v in message.items() if k not in ("response", "text")}
            values.update(message.get("kwargs") or {})
            rendered.append(template.format(**values) if values else template)
    return rendered
