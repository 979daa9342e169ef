"""Asking customers from the desk: CSAT after an agent resolved a chat, NPS campaigns to
the customers a supervisor's filter chose. Every question goes through the outbound
service (bot/outbound/surveys.py: consent, quiet hours, an idempotency key: never asked
twice); the answers are read by the SMS path (bot/sms/surveys.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Dict, List, Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.outbound.service import OutboundView, batch_progress, request_text, texts_of_batch
from bot.outbound.surveys import CSAT_QUESTION, NPS_QUESTION, record_question
from bot.outbound.surveys import ask_csat as ask_question
from bot.settings import Settings
from bot.store.models import Conversation, HandoffRequest, Message, NpsCampaign, Survey, utcnow
from bot.store.ownership import Ownership
from bot.store.surveys import CSAT, NPS

__all__ = ["CSAT_QUESTION", "NPS_QUESTION", "ask_csat", "start_campaign", "campaigns"]

MAX_CAMPAIGN_DAYS = 365


def ask_csat(session: Session, settings: Settings, before: Ownership) -> Optional[OutboundView]:
    """After a resolve (`before`: the chat as the agent held it): the rating question,
    once per handoff. None when CSAT_AFTER_RESOLVE is off."""
    if not settings.csat_after_resolve or before.handoff_id is None:
        return None
    return ask_question(
        session,
        settings,
        phone=before.phone,
        key=f"handoff-{before.handoff_id}",
        conversation_id=before.conversation_id,
        handoff_id=before.handoff_id,
        agent_id=before.agent_id,
        team=before.team,
    )


@dataclass(frozen=True)
class CampaignFilter:
    """Who gets an NPS question: texted us within `days`; optionally handed to `team`
    within those days; optionally a latest CSAT rating from `csat_min` to `csat_max`."""

    days: int
    team: Optional[str] = None
    csat_min: Optional[int] = None
    csat_max: Optional[int] = None

    def check(self) -> None:
        """ValueError when the filter cannot be used."""
        if not 1 <= self.days <= MAX_CAMPAIGN_DAYS:
            raise ValueError(f"days must be from 1 to {MAX_CAMPAIGN_DAYS}")
        for bound in (self.csat_min, self.csat_max):
            if bound is not None and not 1 <= bound <= 5:
                raise ValueError("CSAT bounds must be from 1 to 5")
        if self.csat_min and self.csat_max and self.csat_min > self.csat_max:
            raise ValueError("the CSAT range is empty")


def matching_phones(
    session: Session, chosen: CampaignFilter, now: Optional[dt.datetime] = None
) -> List[str]:
    """The phones a filter chooses, in order."""
    since = (now or utcnow()) - dt.timedelta(days=chosen.days)
    phones = set(
        session.execute(
            select(Conversation.phone)
            .join(Message, Message.conversation_id == Conversation.id)
            .where(
                Message.direction == "in",
                Message.author == "customer",
                Message.created_at >= since,
            )
            .distinct()
        ).scalars()
    )
    if chosen.team:
        phones &= set(
            session.execute(
                select(HandoffRequest.phone).where(
                    HandoffRequest.team == chosen.team, HandoffRequest.created_at >= since
                )
            ).scalars()
        )
    if chosen.csat_min is not None or chosen.csat_max is not None:
        latest = (
            select(Survey.phone, func.max(Survey.answered_at).label("at"))
            .where(Survey.kind == CSAT, Survey.score.isnot(None))
            .group_by(Survey.phone)
            .subquery()
        )
        rows = session.execute(
            select(Survey.phone, Survey.score).join(
                latest, (latest.c.phone == Survey.phone) & (latest.c.at == Survey.answered_at)
            )
        ).all()
        low, high = chosen.csat_min or 1, chosen.csat_max or 5
        phones &= {phone for phone, score in rows if low <= score <= high}
    return sorted(phones)


def batch_of(campaign_id: int) -> str:
    return f"nps-{campaign_id}"


def start_campaign(
    session: Session,
    settings: Settings,
    name: str,
    chosen: CampaignFilter,
    agent_id: Optional[int],
) -> int:
    """Ask the filter's customers (once each: the key is campaign + phone); the outbox
    paces the sending. Returns the campaign's id."""
    chosen.check()
    phones = matching_phones(session, chosen)
    campaign = NpsCampaign(
        name=name or f"NPS {utcnow():%Y-%m-%d}",
        created_by=agent_id,
        days=chosen.days,
        team=chosen.team,
        csat_min=chosen.csat_min,
        csat_max=chosen.csat_max,
        matched=len(phones),
    )
    session.add(campaign)
    session.flush()
    for phone in phones:
        view = request_text(
            session,
            settings,
            phone=phone,
            kind=NPS,
            body=NPS_QUESTION,
            idempotency_key=f"campaign-{campaign.id}-{phone}",
            batch=batch_of(campaign.id),
        )
        record_question(session, NPS, view, campaign_id=campaign.id)
    return campaign.id


@dataclass(frozen=True)
class CampaignProgress:
    id: int
    name: str
    created_at: dt.datetime
    filter: Dict[str, Optional[object]]
    matched: int
    statuses: Dict[str, int]  # outbound status -> count (scheduled, queued, sent, ...)
    sent: int  # sent or delivered
    suppressed: int
    answered: int
    suppressed_phones: List[Dict[str, Optional[str]]]  # phone, reason


def campaigns(session: Session, limit: int = 20) -> List[CampaignProgress]:
    """The latest campaigns with their progress: sent, suppressed (and why), answered."""
    rows = session.execute(
        select(NpsCampaign).order_by(NpsCampaign.id.desc()).limit(limit)
    ).scalars()
    result = []
    for c in rows:
        statuses = batch_progress(session, batch_of(c.id))
        answered = session.execute(
            select(func.count())
            .select_from(Survey)
            .where(Survey.campaign_id == c.id, Survey.score.isnot(None))
        ).scalar_one()
        suppressed = [
            {"phone": t.phone, "reason": t.suppress_reason}
            for t in texts_of_batch(session, batch_of(c.id))
            if t.status == "suppressed"
        ]
        result.append(
            CampaignProgress(
                c.id,
                c.name,
                c.created_at,
                {"days": c.days, "team": c.team, "csat_min": c.csat_min, "csat_max": c.csat_max},
                c.matched,
                statuses,
                statuses["sent"] + statuses["delivered"],
                statuses["suppressed"],
                int(answered),
                suppressed,
            )
        )
    return result
