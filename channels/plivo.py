"""Plivo SMS connector: `channels.plivo.PlivoInput` in credentials.yml.

The Rasa server answers the SMS workers (python -m bot.sms.worker); Plivo's webhooks go
to the receiver (python -m bot.sms.receiver), not here:

    POST /webhooks/plivo/process   one text from a worker (HMAC over timestamp, nonce and
                                   body; the nonce recorded where every Rasa server sees
                                   it) -> the bot messages of that turn
    GET  /webhooks/plivo/          health

A turn is idempotent on its message id (the text's MessageUUID): if the tracker already
holds a user message with that id, the bot messages that followed it are returned and
nothing is appended. The answer also names the custom actions that failed during the turn
(`failed_actions`, bot/rasa_ext/action_failures.py): Rasa carries on without them, and the
worker then tells the customer and hands the conversation to a person. When the lock
store (Redis) or the database cannot be reached the answer is 503: the worker keeps the
text queued and asks again later (safe, as above). Replies that do not answer a text
(get_output_channel) go to the outbox, which the workers send.

Credentials (credentials.yml keys, else environment): auth_id (PLIVO_AUTH_ID),
auth_token (PLIVO_AUTH_TOKEN), number (PLIVO_NUMBER), api_url (PLIVO_API_URL),
public_url (BOT_PUBLIC_URL). `from_credentials` is this process's entry point for the
channel (Rasa builds it so): it reads the settings once and hands them down.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Set, Text, Tuple

from rasa.core.channels.channel import (
    CollectingOutputChannel,
    InputChannel,
    OutputChannel,
    UserMessage,
)
from rasa.core.lock_store import LockError
from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy import text

from bot.rasa_ext import action_failures, call_nonces, store_layers
from bot.settings import Settings, SettingsError, get_settings
from bot.sms import gateway_auth, outbox
from bot.sms.text import join_turn
from bot.store.db import DATABASE_UNAVAILABLE, run_sync, session_scope
from bot.text.phone import to_e164

logger = logging.getLogger(__name__)


def _raise_if_database_unavailable(error: Exception) -> None:
    """FailSafeTrackerStore's error hook: a database outage fails the turn (503, asked
    again later) instead of running it on an empty tracker or keeping it in memory only;
    other errors are logged and fall back as Rasa does."""
    if isinstance(error, DATABASE_UNAVAILABLE):
        raise error
    logger.error("tracker store error, falling back to memory: %r", error)


def strict_tracker_store(agent: Any) -> None:
    """Install that hook on every FailSafeTrackerStore layer of the agent's tracker store
    (once; cheap to repeat)."""
    for store in store_layers.layers(getattr(agent, "tracker_store", None)):
        if isinstance(store, FailSafeTrackerStore) and store._on_tracker_store_error is None:
            store._on_tracker_store_error = _raise_if_database_unavailable


def _enqueue(settings: Settings, phone: str, text: str, buttons: List[Dict[str, str]]) -> None:
    with session_scope(settings.database_url) as session:
        outbox.enqueue(
            session,
            phone,
            text,
            buttons=buttons or None,
            segment_budget=settings.sms_segment_budget,
        )


class PlivoOutput(OutputChannel):
    """Sends through the outbox: used for replies that do not answer an inbound text."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @classmethod
    def name(cls) -> Text:
        return "plivo"

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self._queue(recipient_id, [{"text": text}])

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        await self._queue(recipient_id, [{"text": text, "buttons": buttons}])

    async def _queue(self, recipient_id: Text, messages: List[Dict[str, Any]]) -> None:
        phone = to_e164(recipient_id, self.settings.default_country_code)
        if phone is None:
            logger.error("not sending to %r: not a phone number", recipient_id)
            return
        text, buttons = join_turn(messages)
        # a worker's sender polls the outbox for it
        await run_sync(_enqueue, self.settings, phone, text, buttons)


def replies_after(tracker: DialogueStateTracker, message_id: str) -> Optional[List[Dict]]:
    """The bot messages that followed the user message `message_id`, as a collecting
    channel would have given them; None if the tracker has no such user message."""
    found, messages = False, []
    for event in tracker.events:
        if isinstance(event, UserUttered):
            if found:
                break
            found = event.message_id == message_id
        elif found and isinstance(event, BotUttered):
            messages.extend(_as_sent(tracker.sender_id, event))
    return messages if found else None


def _as_sent(recipient: str, event: BotUttered) -> List[Dict[str, Any]]:
    """What CollectingOutputChannel records for one bot utterance."""
    data = event.data or {}
    out: List[Dict[str, Any]] = []
    if data.get("buttons"):
        out.append({"recipient_id": recipient, "text": event.text, "buttons": data["buttons"]})
    elif event.text:
        for part in event.text.strip().split("\n\n"):
            out.append({"recipient_id": recipient, "text": part})
    if data.get("image"):
        out.append({"recipient_id": recipient, "image": data["image"]})
    return out


_SEEN = text(
    "SELECT 1 FROM events WHERE sender_id = :sender AND type_name = 'user' "
    "AND data LIKE :pattern ESCAPE '!' LIMIT 1"
)


def _seen_in_sql_store(store: SQLTrackerStore, phone: str, message_id: str) -> bool:
    """A user event with this message id is stored (one indexed query, no tracker load)."""
    escaped = message_id.replace("!", "!!").replace("%", "!%").replace("_", "!_")
    params = {"sender": phone, "pattern": f'%"message_id": {json.dumps(escaped)}%'}
    with store.engine.connect() as connection:
        return connection.execute(_SEEN, params).first() is not None


_unchecked: Set[int] = set()  # stores without an SQL layer, logged once each


def sql_store(store: Any) -> Optional[SQLTrackerStore]:
    """The SQL tracker store under Rasa's wrappers (bot/rasa_ext/store_layers.py); None,
    logged once per store, when there is none: every turn then reads the tracker."""
    found = store_layers.find_layer(store, SQLTrackerStore)
    if found is None and id(store) not in _unchecked:
        _unchecked.add(id(store))
        logger.warning(
            "no SQL tracker store in %s: message ids are checked by reading the tracker",
            store_layers.describe(store),
        )
    return found


async def _stored(store: Any, phone: str, message_id: str) -> Optional[bool]:
    """Whether a user event with this message id is stored: True or False from one query
    on the SQL store, None (not known: read the tracker) without one."""
    sql = sql_store(store)
    if sql is None:
        return None
    return await run_sync(_seen_in_sql_store, sql, phone, message_id)


async def earlier_answer(store: Any, phone: str, message_id: str) -> Optional[List[Dict]]:
    """The bot messages that followed this message id when it was run before, None if it
    was not: one query for a new id; the current session for a replay, the whole history
    if the id is stored but not there (a session started since)."""
    stored = await _stored(store, phone, message_id)
    if stored is False:
        return None
    tracker = await store.retrieve(phone)
    previous = replies_after(tracker, message_id) if tracker is not None else None
    if previous is None and stored:
        full = await store.retrieve_full_tracker(phone)
        previous = replies_after(full, message_id) if full is not None else None
    return previous


async def run_turn(
    agent: Any, phone: str, text: str, message_id: str, metadata: Dict[str, Any]
) -> Tuple[List[Dict[str, Any]], List[str]]:
    """One turn under the conversation's lock: (bot messages, custom actions that failed);
    a replayed message id runs nothing (its failures are not known then: none)."""
    async with agent.lock_store.lock(phone):
        previous = await earlier_answer(agent.tracker_store, phone, message_id)
        if previous is not None:
            logger.info("turn %s of %s was run before: replaying its answer", message_id, phone)
            return previous, []
        collector = CollectingOutputChannel()
        failed = action_failures.watch()
        await agent.processor.handle_message(
            UserMessage(
                text,
                collector,
                phone,
                input_channel=PlivoInput.name(),
                message_id=message_id,
                metadata=metadata,
            )
        )
        return collector.messages, failed


def _unavailable(part: str, error: Exception, message_id: str = "") -> HTTPResponse:
    """503 for a worker's call that met an unreachable lock store or database (it asks
    again later; a turn that ran in part is answered from the tracker then)."""
    logger.warning("turn %s not run: %s unavailable (%s)", message_id or "-", part, error)
    return response.json({"error": f"{part} unavailable"}, status=503)


class PlivoInput(InputChannel):
    """The workers' route to the assistant; outbox out."""

    @classmethod
    def name(cls) -> Text:
        return "plivo"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "PlivoInput":
        credentials = credentials or {}
        try:
            env = get_settings()
        except SettingsError as error:
            raise ValueError(f"Plivo channel: bad setting: {error}") from None
        number = credentials.get("number") or env.plivo_number
        settings = dataclasses.replace(
            env,
            plivo_auth_id=credentials.get("auth_id") or env.plivo_auth_id,
            plivo_auth_token=credentials.get("auth_token") or env.plivo_auth_token,
            plivo_number=to_e164(number, env.default_country_code) or "",
            plivo_api_url=credentials.get("api_url") or env.plivo_api_url,
            bot_public_url=(credentials.get("public_url") or env.bot_public_url).rstrip("/"),
        )
        missing = settings.missing_plivo_settings()
        if missing:
            raise ValueError(
                f"Plivo channel: set {', '.join(missing)} (environment or credentials.yml)"
            )
        return cls(settings)

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def get_output_channel(self) -> Optional[OutputChannel]:
        return PlivoOutput(self.settings)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        plivo = Blueprint("plivo_webhook", __name__)
        auth_token = self.settings.plivo_auth_token
        nonces_url = self.settings.tracker_database_url

        @plivo.route("/", methods=["GET"])
        async def health(_request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @plivo.route("/process", methods=["POST"])
        async def process(request: Request) -> HTTPResponse:
            body = request.body or b""
            if not gateway_auth.is_valid(body, request.headers, auth_token):
                logger.warning("worker call refused: bad signature from %s", request.ip)
                return response.json({"error": "invalid gateway signature"}, status=403)
            nonce = gateway_auth.nonce_of(request.headers)
            try:
                fresh = await run_sync(call_nonces.remember, nonce, nonces_url)
            except DATABASE_UNAVAILABLE as error:
                return _unavailable("database", error)
            if not fresh:
                logger.warning("worker call refused: replayed nonce from %s", request.ip)
                return response.json({"error": "replayed nonce"}, status=403)
            try:
                payload = json.loads(body)
                phone, text = str(payload["phone"]), str(payload["text"])
                message_id = str(payload["message_id"])
                metadata = dict(payload.get("metadata") or {})
            except (ValueError, KeyError, TypeError):
                return response.json({"error": "expected phone, text, message_id"}, status=400)
            agent = request.app.ctx.agent
            if agent is None or not agent.is_ready():
                return response.json({"error": "no model loaded"}, status=503)
            strict_tracker_store(agent)
            try:
                messages, failed = await run_turn(agent, phone, text, message_id, metadata)
            except LockError as error:
                return _unavailable("lock store", error, message_id)
            except DATABASE_UNAVAILABLE as error:
                return _unavailable("database", error, message_id)
            if failed:
                logger.error("turn %s of %s: custom actions failed: %s", message_id, phone, failed)
            return response.json({"messages": messages, "failed_actions": failed})

        return plivo
