"""What happens to one inbound SMS once a worker claimed it (bot/sms/worker.py).

Compliance words first (STOP/START/HELP), then the ownership gate, MORE, numbered
choices and survey answers (bot/sms/surveys.py), then the assistant. Every reply goes to
the outbox in the same transaction that marks the inbound text done, so a crash can
neither lose the reply nor send it twice.
A turn the assistant could not answer (it failed, or gave no reply: e.g. the action server
is down) gets one polite text and the conversation is handed to the agent queue, in that
same transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from bot.settings import Settings
from bot.sms import compliance, inbound, outbox, reassure
from bot.sms.queue import ClaimedText, finish_held
from bot.sms.surveys import answer_survey
from bot.sms.text import Button, join_turn, resolve_choice
from bot.store import ownership
from bot.store.customers import set_opted_out
from bot.store.events import publish
from bot.store.handoffs import record_handoff, team_for

logger = logging.getLogger(__name__)

MAX_NLU_CHARS = 1600  # Plivo's own maximum for one text
EMPTY_REPLY = "Your text was empty. Text MENU to see what I can do, or AGENT for a person."
MMS_REPLY = "Thanks, we got your picture. I can only read text, so please tell me what you need."
NOTHING_MORE = "That's all for now. Text MENU to see what I can do."
# The assistant failed a text (or gave no reply); a person takes the conversation over.
ASSISTANT_ERROR_REPLY = (
    "Sorry, I can't look that up right now. A teammate will text you back shortly."
)
ASSISTANT_ERROR = "assistant_error"  # the handoff's reason
NO_REPLY = "the assistant gave no reply"
# Answers to BOT / WAIT from a texter in the queue (the offer: bot.desk.notices.WAIT_OFFER).
KEEP_WAITING = "OK, you keep your place in line. A person will text you here."
BACK_TO_BOT = "OK, you're back with our assistant. How can I help? (Text MENU for options.)"

HANDBACK_PAYLOAD = "/agent_resolved"  # tells the assistant a person just resolved the chat


@dataclass
class BotTurn:
    """The assistant's answer to one text: its bot messages, and the custom actions that
    failed meanwhile (Rasa carries on without them)."""

    messages: List[Dict[str, Any]]
    failed_actions: List[str] = field(default_factory=list)


# Runs the assistant on a text: (phone, text, message uuid, metadata) -> its answer.
AskBot = Callable[[str, str, str, Dict[str, Any]], Awaitable[BotTurn]]


class BotUnavailable(Exception):
    """The assistant could not be reached: the text goes back to the queue for a retry."""


@dataclass
class Reply:
    text: str
    kind: str = "reply"
    buttons: List[Button] = field(default_factory=list)


@dataclass
class Intake:
    """What one transaction decided about an inbound text before (or instead of) the bot."""

    message: ClaimedText
    done: bool = False
    replies: List[Reply] = field(default_factory=list)
    handback: bool = False
    bot_text: str = ""
    queued: List[outbox.OutboxView] = field(default_factory=list)  # replies in the outbox


@dataclass
class Decision:
    intake: Intake
    status: str = inbound.PROCESSED
    opted_out: Optional[bool] = None  # changed by this text (else as read with the claim)

    @property
    def done(self) -> bool:
        return self.intake.done

    @property
    def replies(self) -> List[Reply]:
        return self.intake.replies


def decide(session: outbox.Executor, message: ClaimedText, settings: Settings) -> Decision:
    """Settle what needs no bot; writes only when it settles the text (done). `settings`:
    the business name and phone of the compliance replies."""

    def done(status: str, *replies: Reply) -> Decision:
        return Decision(Intake(message, done=True, replies=list(replies)), status)

    phone = message.phone
    opted_out = message.opted_out
    keyword = compliance.compliance_keyword(message.text, message.intent, opted_out)
    if keyword == compliance.OPT_OUT:
        if opted_out:
            return done(inbound.IGNORED)
        set_opted_out(session, phone, True)
        return done(
            inbound.PROCESSED,
            Reply(compliance.opt_out_confirmation(settings), kind="optout_confirmation"),
        )
    if keyword == compliance.OPT_IN:
        set_opted_out(session, phone, False)
        decision = done(
            inbound.PROCESSED, Reply(compliance.opt_in_confirmation(settings), kind="compliance")
        )
        decision.opted_out = False  # the claim read the state before this text
        return decision
    if keyword == compliance.HELP:
        return done(inbound.PROCESSED, Reply(compliance.help_text(settings), kind="help"))
    if opted_out:
        return done(inbound.IGNORED)  # recorded, never answered until START
    text = message.text.strip()
    window = dt.timedelta(seconds=settings.queue_reassure_seconds)
    gate = _gate(session, message.ownership, text, window)
    if gate.held:  # a person owns the conversation: the bot stays silent
        return done(inbound.HELD, *gate.replies)
    if text.upper() == "MORE":
        return done(inbound.PROCESSED, Reply(outbox.take_overflow(session, phone) or NOTHING_MORE))
    replies = [Reply(MMS_REPLY)] if message.kind == "mms" else []
    if not text:
        return done(inbound.PROCESSED, *(replies or [Reply(EMPTY_REPLY)]))
    latest = outbox.latest_for_phone(session, phone)
    choice = resolve_choice(text, latest.buttons) if latest else None
    bot_text = choice or text[:MAX_NLU_CHARS]
    if choice is None:  # a rating while a survey is open answers it (bot/sms/surveys.py)
        last_sent = latest.text if latest else None
        survey = answer_survey(session, phone, message.id, text, settings, last_sent)
        if survey is not None:
            replies.append(Reply(survey.reply))
            if not survey.bot_text:
                return done(inbound.PROCESSED, *replies)
            bot_text = survey.bot_text[:MAX_NLU_CHARS]  # the request inside the comment
    return Decision(Intake(message, replies=replies, handback=gate.handback, bot_text=bot_text))


@dataclass
class Gate:
    held: bool = False
    handback: bool = False
    replies: List[Reply] = field(default_factory=list)


def _gate(
    session: outbox.Executor, current: ownership.Ownership, text: str, window: dt.timedelta
) -> Gate:
    """Ownership decides: the bot answers only conversations it owns. A pending handback
    is only read here: the caller takes it (bot/sms/worker.py). A texter waiting in the
    queue is told their text arrived (at most once per `window`)."""
    if current.owner == ownership.BOT:
        return Gate(handback=current.handback_pending)
    word = text.strip().upper()
    if current.owner == ownership.QUEUE and word == "BOT":
        if ownership.return_to_bot(session, current.conversation_id):
            return Gate(held=True, replies=[Reply(BACK_TO_BOT, kind="system")])
    if current.owner == ownership.QUEUE and word == "WAIT":
        publish(session, "message_in", current.conversation_id, team=current.team)
        return Gate(held=True, replies=[Reply(KEEP_WAITING, kind="system")])
    publish(session, "message_in", current.conversation_id, current.agent_id, current.team)
    note = reassure.reassurance(session, current, window)
    return Gate(held=True, replies=[Reply(note, kind=reassure.KIND)] if note else [])


def queue_replies(
    session: outbox.Executor,
    message: ClaimedText,
    replies: List[Reply],
    budget: int,
    opted_out: Optional[bool] = None,
) -> List[outbox.OutboxView]:
    """Replies into the outbox, claimed for this process's sender where they can go now."""
    return [
        outbox.enqueue(
            session,
            message.phone,
            reply.text,
            kind=reply.kind,
            in_reply_to=message.id,
            buttons=reply.buttons or None,
            segment_budget=budget,
            claim=True,
            conversation_id=message.ownership.conversation_id,
            opted_out=message.opted_out if opted_out is None else opted_out,
        )
        for reply in replies
    ]


def settle(session: outbox.Executor, decision: Decision, budget: int) -> List[outbox.OutboxView]:
    """A text settled without the bot: its replies and its final status."""
    message = decision.intake.message
    queued = queue_replies(session, message, decision.replies, budget, decision.opted_out)
    inbound.finish_inbound(session, message.id, decision.status)
    return queued


@dataclass
class Answer:
    """What the assistant's turn produced for one text."""

    status: str
    replies: List[Reply]
    error: Optional[str] = None
    hand_off: bool = False  # the assistant failed the customer: queue for a person


async def ask_assistant(ask_bot: AskBot, intake: Intake) -> Answer:
    """The answer of one turn; raises BotUnavailable (nothing was decided).

    The assistant is told of a handback first. Both calls carry ids derived from the
    MessageUUID, so a turn replayed after a crash is answered from the tracker. A turn
    that fails, yields no bot message or had custom actions fail (Rasa logs an unreachable
    action server and carries on without the action's messages) gets
    ASSISTANT_ERROR_REPLY and a handoff."""
    message = intake.message
    try:
        if intake.handback:
            await ask_bot(message.phone, HANDBACK_PAYLOAD, f"{message.uuid}-handback", {})
        replies = list(intake.replies)
        metadata = {"kind": message.kind, "media": message.media}
        turn = await ask_bot(message.phone, intake.bot_text, message.uuid, metadata)
    except BotUnavailable:
        raise
    except Exception as failure:  # noqa: BLE001 - the customer still gets an answer
        logger.exception("could not answer inbound message %s from %s", message.id, message.phone)
        return Answer(
            inbound.FAILED, [Reply(ASSISTANT_ERROR_REPLY, kind="error")], repr(failure), True
        )
    bot_text, buttons = join_turn(turn.messages)
    if turn.failed_actions or not bot_text:
        # Half an answer is not sent: the actions' part of it is missing.
        error = NO_REPLY
        if turn.failed_actions:
            error = f"custom actions failed: {', '.join(dict.fromkeys(turn.failed_actions))}"
        logger.error(
            "%s for inbound message %s from %s: handing off", error, message.id, message.phone
        )
        replies.append(Reply(ASSISTANT_ERROR_REPLY, kind="error"))
        return Answer(inbound.PROCESSED, replies, error, True)
    replies.append(Reply(bot_text, buttons=buttons))
    return Answer(inbound.PROCESSED, replies)


def hand_off_failed_turn(
    connection: Connection, message: ClaimedText, error: str, team: str
) -> None:
    """Queue the conversation for a person (`team`), inside the turn's transaction.
    Once per text (keyed by its MessageUUID); nothing changes if a person already has it."""
    session = Session(bind=connection, future=True)  # joins the open transaction
    try:
        record_handoff(
            session,
            message.phone,
            ASSISTANT_ERROR,
            team,
            f"{error}; customer wrote: {message.text[:400]}",
            message.uuid,
        )
        session.flush()
    finally:
        session.close()  # the connection's transaction stays open for the caller


def finish(
    session: Connection,
    message: ClaimedText,
    answer: Answer,
    budget: int,
    reason_teams: Mapping[str, str],
) -> List[outbox.OutboxView]:
    """The text marked done, the turn's replies into the outbox and, if the assistant
    failed it, the handoff (one transaction); on SQLite only while this worker's claim
    still holds the text (else LostClaim)."""
    if message.claimed_at is not None:
        finish_held(session, message, answer.status, answer.error)  # first: nothing if lost
    else:
        inbound.finish_inbound(session, message.id, answer.status, answer.error)
    if answer.hand_off:
        team = team_for(ASSISTANT_ERROR, None, reason_teams)
        hand_off_failed_turn(session, message, answer.error or NO_REPLY, team)
    return queue_replies(session, message, answer.replies, budget)
