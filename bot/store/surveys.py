"""Surveys: which question a customer's text may answer, recording the answer, and
reopening a chat after a low CSAT rating."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Optional, Union

from sqlalchemy import and_, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from bot.store.models import Note, OutboundText, Survey, utcnow
from bot.store.ownership import QUEUE, hand_to_queue

CSAT, NPS = "csat", "nps"
LOW_CSAT = "low_csat"  # the reopened chat's handoff reason

Executor = Union[Session, Connection]


@dataclass(frozen=True)
class OpenSurvey:
    """A question a text may answer: the score (`awaiting_why`: the NPS score came, the
    next text is the reason) or a replay of the text that already answered it."""

    id: int
    kind: str
    phone: str
    conversation_id: Optional[int]
    team: Optional[str]
    score: Optional[int]
    awaiting_why: bool
    answered_by_this_text: bool


def open_survey(
    session: Executor, phone: str, message_id: int, hours: float, now: Optional[dt.datetime] = None
) -> Optional[OpenSurvey]:
    """The newest survey this text may answer: sent (in the outbox, not suppressed) within
    `hours` and not answered, or its NPS reason still missing, or answered by this very
    text (a replayed turn)."""
    since = (now or utcnow()) - dt.timedelta(hours=hours)
    unanswered = and_(Survey.answered_at.is_(None), OutboundText.queued_at >= since)
    why = and_(
        Survey.why_asked_at.isnot(None), Survey.comment.is_(None), Survey.why_asked_at >= since
    )
    row = session.execute(
        select(
            Survey.id,
            Survey.kind,
            Survey.phone,
            Survey.conversation_id,
            Survey.team,
            Survey.score,
            Survey.comment,
            Survey.why_asked_at,
            Survey.answer_message_id,
        )
        .join(OutboundText, OutboundText.id == Survey.outbound_id)
        .where(
            Survey.phone == phone,
            OutboundText.queued_at.isnot(None),
            OutboundText.status != "suppressed",
            or_(unanswered, why, Survey.answer_message_id == message_id),
        )
        .order_by(Survey.id.desc())
        .limit(1)
    ).first()  # columns, not an entity: `session` may be a Connection (the SMS worker)
    if row is None:
        return None
    replay = row.answer_message_id == message_id
    return OpenSurvey(
        row.id,
        row.kind,
        row.phone,
        row.conversation_id,
        row.team,
        row.score,
        awaiting_why=row.why_asked_at is not None and (row.comment is None or replay),
        answered_by_this_text=replay,
    )


def _update(session: Executor, survey_id: int, **values: object) -> None:
    session.execute(
        update(Survey)
        .where(Survey.id == survey_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def record_score(
    session: Executor,
    survey_id: int,
    score: int,
    comment: str,
    message_id: int,
    ask_why: bool = False,
) -> None:
    """The score (and the rest of the text as comment; none yet when `ask_why`)."""
    _update(
        session,
        survey_id,
        score=score,
        comment=None if ask_why else comment,
        answered_at=utcnow(),
        answer_message_id=message_id,
        why_asked_at=utcnow() if ask_why else None,
    )


def record_why(session: Executor, survey_id: int, comment: str, message_id: int) -> None:
    """The reason an NPS answer gave when asked."""
    _update(session, survey_id, comment=comment, answer_message_id=message_id)


def reopen_after_low_rating(
    session: Executor, survey: OpenSurvey, score: int, comment: str, default_team: str
) -> bool:
    """The chat back to the queue of the team that handled it, with a note
    "Low CSAT (1): <comment>"; False if it is already with a person."""
    orm = session if isinstance(session, Session) else Session(bind=session, future=True)
    try:
        detail = f"Low CSAT ({score}): {comment}".strip().rstrip(":")[:500]
        ownership = hand_to_queue(orm, survey.phone, LOW_CSAT, survey.team or default_team, detail)
        if ownership.owner != QUEUE or ownership.handoff_id is None:
            return False
        orm.add(Note(conversation_id=ownership.conversation_id, text=detail))
        orm.flush()
        _update(orm, survey.id, reopened=True)
        return True
    finally:
        if orm is not session:
            orm.close()  # the connection's transaction stays open for the caller
