"""Survey questions (CSAT 1-5, NPS 0-10) asked through the outbound service, each with
its row in `surveys` (the SMS worker reads the answers: bot/sms/surveys.py)."""

from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.outbound.service import OutboundView, request_text
from bot.settings import Settings
from bot.store.models import Customer, HandoffRequest, Survey, utcnow
from bot.store.surveys import CSAT

CSAT_QUESTION = "How did we do? Reply 1-5 (5 = great)."
NPS_QUESTION = "How likely are you to recommend us to a friend? Reply 0-10 (10 = very likely)."
ASSISTANT_TEAM = "assistant"  # the "team" of a CSAT after a task the bot did alone


def record_question(
    session: Session, kind: str, view: OutboundView, **values: Optional[object]
) -> int:
    """The survey row of a question (once per outbound text)."""
    found = session.execute(
        select(Survey.id).where(Survey.outbound_id == view.id)
    ).scalar_one_or_none()
    if found is not None:
        return found
    customer_id = session.execute(
        select(Customer.id).where(Customer.phone == view.phone)
    ).scalar_one_or_none()
    survey = Survey(
        kind=kind,
        phone=view.phone,
        customer_id=customer_id,
        outbound_id=view.id,
        asked_at=utcnow(),
        **values,
    )
    session.add(survey)
    session.flush()
    return survey.id


def ask_csat(
    session: Session,
    settings: Settings,
    *,
    phone: str,
    key: str,
    not_before: Optional[dt.datetime] = None,
    **values: Optional[object],
) -> OutboundView:
    """The rating question, once per `key`; `values`: the survey's conversation,
    handoff, agent and team."""
    view = request_text(
        session,
        settings,
        phone=phone,
        kind=CSAT,
        body=CSAT_QUESTION,
        idempotency_key=key,
        not_before=not_before,
    )
    record_question(session, CSAT, view, **values)
    return view


def ask_csat_after_task(
    session: Session, settings: Settings, phone: str, task: str
) -> Optional[OutboundView]:
    """CSAT_AFTER_BOT_TASKS: a task the assistant finished alone (`task`, e.g.
    "booking-7", is the key) is rated, CSAT_AFTER_BOT_TASK_SECONDS later so the
    question follows the task's answer. Not when a person was involved or a question went out within
    SURVEY_REPLY_HOURS (no survey fatigue)."""
    if not settings.csat_after_bot_tasks:
        return None
    since = utcnow() - dt.timedelta(hours=settings.survey_reply_hours)
    recent_handoff = session.execute(
        select(HandoffRequest.id).where(
            HandoffRequest.phone == phone, HandoffRequest.created_at >= since
        )
    ).first()
    recent_survey = session.execute(
        select(Survey.id).where(Survey.phone == phone, Survey.asked_at >= since)
    ).first()
    if recent_handoff or recent_survey:
        return None
    return ask_csat(
        session,
        settings,
        phone=phone,
        key=task,
        not_before=utcnow() + dt.timedelta(seconds=settings.csat_after_bot_task_seconds),
        team=ASSISTANT_TEAM,
    )
