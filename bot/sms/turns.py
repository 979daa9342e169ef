"""The transactions of one turn (blocking; the worker runs them off its event loop).

PostgreSQL: claim, intake, the assistant's answer, replies and the processed mark in ONE
transaction held for the whole turn (the row lock is the claim). SQLite: a short claim
transaction (claim + intake), the assistant, then a short finish transaction: SQLite has
one writer per file and the receiver must be able to write meanwhile.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import List, Mapping, Optional

from sqlalchemy.engine import Connection

from bot.settings import Settings
from bot.sms import inbound, outbox, queue
from bot.sms.conversation import Answer, Decision, decide, finish, settle
from bot.store.db import connection_scope, get_engine
from bot.store.ownership import restore_handback, take_handback_of


@dataclass
class Turn:
    """A claimed text; `connection` holds the PostgreSQL transaction until end/abort."""

    decision: Decision
    connection: Optional[Connection] = None
    queued: List[outbox.OutboxView] = field(default_factory=list)  # settled without the bot

    @property
    def message(self) -> queue.ClaimedText:
        return self.decision.intake.message

    @property
    def settled(self) -> bool:
        return self.decision.done


def begin_postgres(budget: int, settings: Settings) -> Optional[Turn]:
    """Claim the next text; settle it if no bot is needed (then commit), else keep the
    transaction open for end_postgres/abort_postgres."""
    connection = get_engine().connect()
    transaction = connection.begin()
    try:
        claimed = queue.claim_postgres(connection)
        if claimed is None:
            transaction.rollback()
            connection.close()
            return None
        decision = decide(connection, claimed, settings)
        if decision.done:
            queued = settle(connection, decision, budget)
            transaction.commit()
            connection.close()
            return Turn(decision, queued=queued)
        return Turn(decision, connection)
    except BaseException:
        transaction.rollback()
        connection.close()
        raise


def end_postgres(
    turn: Turn, answer: Answer, budget: int, reason_teams: Mapping[str, str]
) -> List[outbox.OutboxView]:
    """Replies, the handback taken, the processed mark (and a handoff if the assistant
    failed the text); COMMIT ends the claim."""
    connection = turn.connection
    assert connection is not None
    try:
        if turn.decision.intake.handback:
            take_handback_of(connection, turn.message.ownership.conversation_id)
        queued = finish(connection, turn.message, answer, budget, reason_teams)
        connection.commit()
        return queued
    except BaseException:
        connection.rollback()
        raise
    finally:
        connection.close()


def abort_postgres(turn: Turn) -> None:
    """Roll back: the text is `received` and unlocked again, as if never claimed."""
    if turn.connection is not None:
        try:
            turn.connection.rollback()
        finally:
            turn.connection.close()


def begin_sqlite(budget: int, lease: dt.timedelta, settings: Settings) -> Optional[Turn]:
    """Claim (`processing`, with a lease) and intake in one short transaction."""
    with connection_scope(durable=False) as connection:
        if not queue.has_candidate_sqlite(connection, lease):
            return None  # an idle poll ends here, without a write lock
    with connection_scope(durable=False) as connection:
        claimed = queue.claim_sqlite(connection, lease)
        if claimed is None:
            return None
        decision = decide(connection, claimed, settings)
        if decision.done:
            return Turn(decision, queued=settle(connection, decision, budget))
        if decision.intake.handback:  # taken now; given back if the assistant is down
            conversation_id = claimed.ownership.conversation_id
            decision.intake.handback = take_handback_of(connection, conversation_id)
        return Turn(decision)


def end_sqlite(
    turn: Turn, answer: Answer, budget: int, reason_teams: Mapping[str, str]
) -> List[outbox.OutboxView]:
    """Replies and the processed mark (and a handoff) in one transaction."""
    with connection_scope(durable=False) as connection:
        return finish(connection, turn.message, answer, budget, reason_teams)


def abort_sqlite(turn: Turn) -> None:
    """Give the text back to the queue (and the handback, told again next time)."""
    with connection_scope(durable=False) as connection:
        inbound.release_inbound(connection, turn.message.id, turn.message.claimed_at)
        if turn.decision.intake.handback:
            restore_handback(connection, turn.message.phone)
