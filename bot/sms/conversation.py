"""What happens to one inbound SMS after it was recorded and acknowledged.

Compliance words first (STOP/START/HELP), then MORE and numbered choices, then the
assistant. Every reply goes to the outbox in the same transaction that marks the inbound
message done, so a crash can neither lose the reply nor send it twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, List, Optional

from sqlalchemy.orm import Session

from bot.settings import get_settings
from bot.sms import compliance, inbound, outbox
from bot.sms.text import Button, join_turn, resolve_choice
from bot.store import ownership
from bot.store.customers import is_opted_out, set_opted_out
from bot.store.db import connection_scope, run_sync, session_scope
from bot.store.events import publish

logger = logging.getLogger(__name__)

MAX_NLU_CHARS = 1600  # Plivo's own maximum for one text
EMPTY_REPLY = "Your text was empty. Text MENU to see what I can do, or AGENT for a person."
MMS_REPLY = "Thanks, we got your picture. I can only read text, so please tell me what you need."
NOTHING_MORE = "That's all for now. Text MENU to see what I can do."
TROUBLE_REPLY = "Sorry, we're having trouble right now. We'll get back to you by text soon."
# Answers to BOT / WAIT from a texter in the queue (the offer: bot.desk.notices.WAIT_OFFER).
KEEP_WAITING = "OK, you keep your place in line. A person will text you here."
BACK_TO_BOT = "OK, you're back with our assistant. How can I help? (Text MENU for options.)"

HANDBACK_PAYLOAD = "/agent_resolved"  # tells the assistant a person just resolved the chat

# Runs the assistant on a text: (phone, text, message uuid, metadata) -> bot messages.
AskBot = Callable[[str, str, str, Dict[str, Any]], Awaitable[List[Dict[str, Any]]]]


class BotUnavailable(Exception):
    """The assistant could not be reached: the text goes back to the queue for a retry."""


@dataclass
class Reply:
    text: str
    kind: str = "reply"
    buttons: List[Button] = field(default_factory=list)


class SmsConversations:
    """Processes inbound texts: per phone in order, different phones in parallel."""

    def __init__(
        self,
        ask_bot: AskBot,
        on_queued: Callable[[List[outbox.OutboxView]], None],
        concurrency: int = 4,
    ) -> None:
        self.ask_bot = ask_bot
        self.on_queued = on_queued
        # Rasa's processing blocks the event loop in short bursts; a few at a time keep the
        # loop free enough to acknowledge new webhooks within milliseconds.
        self._slots = asyncio.Semaphore(concurrency)
        self._locks: Dict[str, asyncio.Lock] = {}
        self._in_flight: set = set()
        self._tasks: set = set()
        # While the assistant is unreachable, the sweep waits (1, 2, 4 ... 30 s) instead of
        # retrying every waiting text every few seconds.
        self._retry_at = 0.0
        self._backoff = 0.0

    def submit(self, message_id: int, phone: str) -> None:
        """Schedule processing; tasks for one phone run in submission order."""
        if message_id in self._in_flight:
            return
        self._in_flight.add(message_id)
        lock = self._locks.setdefault(phone, asyncio.Lock())
        task = asyncio.create_task(self._run(message_id, phone, lock))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self, timeout: Optional[float] = None) -> None:
        """Wait for the texts being processed (unfinished ones stay queued in the database)."""
        deadline = None if timeout is None else asyncio.get_running_loop().time() + timeout
        while self._tasks:
            left = None if deadline is None else deadline - asyncio.get_running_loop().time()
            if left is not None and left <= 0:
                return
            await asyncio.wait(list(self._tasks), timeout=left)

    def assistant_unreachable(self) -> bool:
        """The assistant failed to answer lately and its retry time has not come yet."""
        return asyncio.get_running_loop().time() < self._retry_at

    def _assistant_answered(self, answered: bool) -> None:
        if answered:
            self._backoff, self._retry_at = 0.0, 0.0
            return
        now = asyncio.get_running_loop().time()
        if now >= self._retry_at:  # texts failing together count once
            self._backoff = min(max(self._backoff * 2, 1.0), 30.0)
            self._retry_at = now + self._backoff

    async def resume_unfinished(self) -> int:
        """Submit what a previous process left undone (after a crash or restart), unless the
        assistant is unreachable and not due for another try."""
        if self.assistant_unreachable():
            return 0
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
        settings = get_settings()  # once per text, not once per statement
        budget, lease = settings.sms_segment_budget, inbound.claim_lease(settings)
        intake = await run_sync(_intake, message_id, budget, lease)
        if intake is None:
            return  # done already, or another worker has it
        if intake.done:  # STOP/HELP/MORE, a held text...: answered in the intake transaction
            if intake.queued:
                self.on_queued(intake.queued)
            return
        message = intake.message
        handback_told = False
        try:
            if intake.handback:
                await self.ask_bot(message.phone, HANDBACK_PAYLOAD, f"{message.id}-handback", {})
                handback_told = True
            replies = list(intake.replies)
            metadata = {"kind": message.kind, "media": message.media}
            bot_messages = await self.ask_bot(
                message.phone, intake.bot_text, str(message.id), metadata
            )
            self._assistant_answered(True)
            bot_text, buttons = join_turn(bot_messages)
            if bot_text:
                replies.append(Reply(bot_text, buttons=buttons))
            status, error = inbound.PROCESSED, None
        except BotUnavailable as failure:
            self._assistant_answered(False)
            logger.warning(
                "assistant unreachable for message %s (%s): retrying in %.0f s",
                message.id,
                failure,
                self._backoff,
            )
            restore_handback = intake.handback and not handback_told
            await run_sync(_release, message.id, message.phone, restore_handback)
            return
        except Exception as failure:  # noqa: BLE001 - the customer still gets an answer
            logger.exception(
                "could not answer inbound message %s from %s", message.id, message.phone
            )
            status, replies = inbound.FAILED, [Reply(TROUBLE_REPLY, kind="error")]
            error = repr(failure)
        queued = await run_sync(_finish, message.id, message.phone, status, replies, error, budget)
        if queued:
            self.on_queued(queued)


@dataclass
class Intake:
    """What one transaction decided about an inbound text before (or instead of) the bot."""

    message: inbound.InboundView
    done: bool = False
    replies: List[Reply] = field(default_factory=list)
    handback: bool = False
    bot_text: str = ""
    queued: List[outbox.OutboxView] = field(default_factory=list)  # replies in the outbox


def _intake(message_id: int, budget: int, lease: dt.timedelta) -> Optional[Intake]:
    """Claim the text and settle everything the bot is not needed for, in one transaction."""
    with connection_scope(durable=False) as session:
        message = inbound.claim_inbound(session, message_id, lease)
        if message is None:
            return None
        if inbound.already_answered(session, message_id):  # answered before a crash
            inbound.finish_inbound(session, message_id, inbound.PROCESSED)
            return None
        decided = _decide(session, message)
        if decided.done:
            decided.intake.queued = _queue_replies(
                session, message.id, message.phone, decided.replies, budget
            )
            inbound.finish_inbound(session, message.id, decided.status)
        return decided.intake


@dataclass
class _Decision:
    intake: Intake
    status: str = inbound.PROCESSED

    @property
    def done(self) -> bool:
        return self.intake.done

    @property
    def replies(self) -> List[Reply]:
        return self.intake.replies


def _decide(session: Session, message: inbound.InboundView) -> _Decision:
    def done(status: str, *replies: Reply) -> _Decision:
        return _Decision(Intake(message, done=True, replies=list(replies)), status)

    phone = message.phone
    opted_out = is_opted_out(session, phone)
    keyword = compliance.compliance_keyword(message.text, message.intent, opted_out)
    if keyword == compliance.OPT_OUT:
        if opted_out:
            return done(inbound.IGNORED)
        set_opted_out(session, phone, True)
        return done(
            inbound.PROCESSED, Reply(compliance.opt_out_confirmation(), kind="optout_confirmation")
        )
    if keyword == compliance.OPT_IN:
        set_opted_out(session, phone, False)
        return done(inbound.PROCESSED, Reply(compliance.opt_in_confirmation(), kind="compliance"))
    if keyword == compliance.HELP:
        return done(inbound.PROCESSED, Reply(compliance.help_text(), kind="help"))
    if opted_out:
        return done(inbound.IGNORED)  # recorded, never answered until START
    text = message.text.strip()
    gate = _gate(session, phone, text)
    if gate.held:  # a person owns the conversation: the bot stays silent
        return done(inbound.HELD, *gate.replies)
    if text.upper() == "MORE":
        return done(inbound.PROCESSED, Reply(outbox.take_overflow(session, phone) or NOTHING_MORE))
    replies = [Reply(MMS_REPLY)] if message.kind == "mms" else []
    if not text:
        return done(inbound.PROCESSED, *(replies or [Reply(EMPTY_REPLY)]))
    latest = outbox.latest_for_phone(session, phone)
    choice = resolve_choice(text, latest.buttons) if latest else None
    return _Decision(
        Intake(
            message,
            replies=replies,
            handback=gate.handback,
            bot_text=choice or text[:MAX_NLU_CHARS],
        )
    )


@dataclass
class Gate:
    held: bool = False
    handback: bool = False
    replies: List[Reply] = field(default_factory=list)


def _gate(session: Session, phone: str, text: str) -> Gate:
    """Ownership decides: the bot answers only conversations it owns."""
    current = ownership.ownership_of(session, phone)
    if current.owner == ownership.BOT:
        handback = current.handback_pending and ownership.take_handback(session, phone)
        return Gate(handback=handback)
    word = text.strip().upper()
    if current.owner == ownership.QUEUE and word == "BOT":
        if ownership.return_to_bot(session, current.conversation_id):
            return Gate(held=True, replies=[Reply(BACK_TO_BOT, kind="system")])
    if current.owner == ownership.QUEUE and word == "WAIT":
        publish(session, "message_in", current.conversation_id, team=current.team)
        return Gate(held=True, replies=[Reply(KEEP_WAITING, kind="system")])
    publish(session, "message_in", current.conversation_id, current.agent_id, current.team)
    return Gate(held=True)


def _queue_replies(
    session: outbox.Executor, message_id: int, phone: str, replies: List[Reply], budget: int
) -> List[outbox.OutboxView]:
    """Replies into the outbox, claimed for this process's worker where they can go now."""
    return [
        outbox.enqueue(
            session,
            phone,
            reply.text,
            kind=reply.kind,
            in_reply_to=message_id,
            buttons=reply.buttons or None,
            segment_budget=budget,
            claim=True,
        )
        for reply in replies
    ]


def _finish(
    message_id: int,
    phone: str,
    status: str,
    replies: List[Reply],
    error: Optional[str],
    budget: int,
) -> List[outbox.OutboxView]:
    with connection_scope(durable=False) as session:
        queued = _queue_replies(session, message_id, phone, replies, budget)
        inbound.finish_inbound(session, message_id, status, error)
    return queued


def _release(message_id: int, phone: str, restore_handback: bool) -> None:
    with connection_scope(durable=False) as session:
        inbound.release_inbound(session, message_id)
        if restore_handback:
            ownership.restore_handback(session, phone)


def _unfinished() -> list:
    with session_scope() as session:
        return inbound.unfinished_inbound(session)
