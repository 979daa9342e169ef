"""What happens to one inbound SMS after it was recorded and acknowledged.

Compliance words first (STOP/START/HELP), then MORE and numbered choices, then the
assistant. Every reply goes to the outbox in the same transaction that marks the inbound
message done, so a crash can neither lose the reply nor send it twice.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, List, Optional

from bot import compliance, inbound, outbox
from bot.customers import is_opted_out, set_opted_out
from bot.db import run_sync, session_scope
from bot.desk import notices, ownership
from bot.desk.events import publish
from bot.settings import get_settings
from bot.sms_text import Button, join_turn, resolve_choice

logger = logging.getLogger(__name__)

MAX_NLU_CHARS = 1600  # Plivo's own maximum for one text
EMPTY_REPLY = "Your text was empty. Text MENU to see what I can do, or AGENT for a person."
MMS_REPLY = "Thanks, we got your picture. I can only read text, so please tell me what you need."
NOTHING_MORE = "That's all for now. Text MENU to see what I can do."
TROUBLE_REPLY = "Sorry, we're having trouble right now. We'll get back to you by text soon."

HANDBACK_PAYLOAD = "/agent_resolved"  # tells the assistant a person just resolved the chat

# Runs the assistant on a text: (phone, text, message uuid, metadata) -> bot messages.
AskBot = Callable[[str, str, str, Dict[str, Any]], Awaitable[List[Dict[str, Any]]]]


@dataclass
class Reply:
    text: str
    kind: str = "reply"
    buttons: List[Button] = field(default_factory=list)


class SmsConversations:
    """Processes inbound texts: per phone in order, different phones in parallel."""

    def __init__(
        self, ask_bot: AskBot, on_queued: Callable[[], None], concurrency: int = 4
    ) -> None:
        self.ask_bot = ask_bot
        self.on_queued = on_queued
        # Rasa's processing blocks the event loop in short bursts; a few at a time keep the
        # loop free enough to acknowledge new webhooks within milliseconds.
        self._slots = asyncio.Semaphore(concurrency)
        self._locks: Dict[str, asyncio.Lock] = {}
        self._in_flight: set = set()
        self._tasks: set = set()

    def submit(self, message_id: int, phone: str) -> None:
        """Schedule processing; tasks for one phone run in submission order."""
        if message_id in self._in_flight:
            return
        self._in_flight.add(message_id)
        lock = self._locks.setdefault(phone, asyncio.Lock())
        task = asyncio.create_task(self._run(message_id, phone, lock))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def resume_unfinished(self) -> int:
        """Submit what a previous process left undone (after a crash or restart)."""
        pending = await run_sync(_unfinished)
        for message_id, phone in pending:
            self.submit(message_id, phone)
        return len(pending)

    async def _run(self, message_id: int, phone: str, lock: asyncio.Lock) -> None:
        try:
            async with lock, self._slots:
                await self.process(message_id)
        except Exception:  # noqa: BLE001 - logged; the row stays for the next sweep
            logger.exception("processing inbound message %s failed", message_id)
        finally:
            self._in_flight.discard(message_id)
            if not lock.locked() and self._locks.get(phone) is lock:
                self._locks.pop(phone, None)

    async def process(self, message_id: int) -> None:
        message = await run_sync(_claim, message_id)
        if message is None:
            return  # done already, or another worker has it
        try:
            status, replies = await self._respond(message)
        except Exception as error:  # noqa: BLE001 - the customer still gets an answer
            logger.exception(
                "could not answer inbound message %s from %s", message.id, message.phone
            )
            status, replies = inbound.FAILED, [Reply(TROUBLE_REPLY, kind="error")]
            await run_sync(_finish, message.id, message.phone, status, replies, repr(error))
        else:
            await run_sync(_finish, message.id, message.phone, status, replies, None)
        if replies:
            self.on_queued()

    async def _respond(self, message: inbound.InboundView) -> tuple:
        opted_out = await run_sync(_opted_out, message.phone)
        keyword = compliance.compliance_keyword(message.text, message.intent, opted_out)
        if keyword == compliance.OPT_OUT:
            if opted_out:
                return inbound.IGNORED, []
            await run_sync(_set_opt_out, message.phone, True)
            return inbound.PROCESSED, [
                Reply(compliance.opt_out_confirmation(), kind="optout_confirmation")
            ]
        if keyword == compliance.OPT_IN:
            await run_sync(_set_opt_out, message.phone, False)
            return inbound.PROCESSED, [Reply(compliance.opt_in_confirmation(), kind="compliance")]
        if keyword == compliance.HELP:
            return inbound.PROCESSED, [Reply(compliance.help_text(), kind="help")]
        if opted_out:
            return inbound.IGNORED, []  # recorded, never answered until START
        text = message.text.strip()
        gate = await run_sync(_gate, message.phone, text)
        if gate.held:  # a person owns the conversation: the bot stays silent
            return inbound.HELD, gate.replies
        if gate.handback:
            await self.ask_bot(message.phone, HANDBACK_PAYLOAD, f"{message.id}-handback", {})
        if text.upper() == "MORE":
            rest = await run_sync(_take_overflow, message.phone)
            return inbound.PROCESSED, [Reply(rest or NOTHING_MORE)]
        replies: List[Reply] = []
        if message.kind == "mms":
            replies.append(Reply(MMS_REPLY))
        if not text:
            return inbound.PROCESSED, replies or [Reply(EMPTY_REPLY)]
        choice = await run_sync(_choice_for, message.phone, text)
        metadata = {"kind": message.kind, "media": message.media}
        bot_messages = await self.ask_bot(
            message.phone, choice or text[:MAX_NLU_CHARS], str(message.id), metadata
        )
        bot_text, buttons = join_turn(bot_messages)
        if bot_text:
            replies.append(Reply(bot_text, buttons=buttons))
        return inbound.PROCESSED, replies


@dataclass
class Gate:
    held: bool = False
    handback: bool = False
    replies: List[Reply] = field(default_factory=list)


def _gate(phone: str, text: str) -> Gate:
    """Ownership decides: the bot answers only conversations it owns."""
    with session_scope() as session:
        current = ownership.ownership_of(session, phone)
        if current.owner == ownership.BOT:
            return Gate(handback=ownership.take_handback(session, phone))
        word = text.strip().upper()
        if current.owner == ownership.QUEUE and word == "BOT":
            if ownership.return_to_bot(session, current.conversation_id):
                return Gate(held=True, replies=[Reply(notices.BACK_TO_BOT, kind="system")])
        if current.owner == ownership.QUEUE and word == "WAIT":
            publish(session, "message_in", current.conversation_id, team=current.team)
            return Gate(held=True, replies=[Reply(notices.KEEP_WAITING, kind="system")])
        publish(session, "message_in", current.conversation_id, current.agent_id, current.team)
        return Gate(held=True)


def _claim(message_id: int) -> Optional[inbound.InboundView]:
    with session_scope() as session:
        message = inbound.claim_inbound(session, message_id)
        if message and inbound.already_answered(session, message_id):
            inbound.finish_inbound(session, message_id, inbound.PROCESSED)
            return None
        return message


def _finish(
    message_id: int, phone: str, status: str, replies: List[Reply], error: Optional[str]
) -> None:
    budget = get_settings().sms_segment_budget
    with session_scope() as session:
        for reply in replies:
            outbox.enqueue(
                session,
                phone,
                reply.text,
                kind=reply.kind,
                in_reply_to=message_id,
                buttons=reply.buttons or None,
                segment_budget=budget,
            )
        inbound.finish_inbound(session, message_id, status, error)


def _unfinished() -> list:
    with session_scope() as session:
        return inbound.unfinished_inbound(session)


def _opted_out(phone: str) -> bool:
    with session_scope() as session:
        return is_opted_out(session, phone)


def _set_opt_out(phone: str, value: bool) -> None:
    with session_scope() as session:
        set_opted_out(session, phone, value)


def _take_overflow(phone: str) -> Optional[str]:
    with session_scope() as session:
        return outbox.take_overflow(session, phone)


def _choice_for(phone: str, text: str) -> Optional[str]:
    with session_scope() as session:
        latest = outbox.latest_for_phone(session, phone)
    return resolve_choice(text, latest.buttons) if latest else None
