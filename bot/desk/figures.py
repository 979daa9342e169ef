"""Supervisor figures: queues per team, agents' load, and today's containment, handoff
rate by reason, time to first human reply and handling time."""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.desk.first_replies import first_replies
from bot.desk.unanswered import UnansweredChat, unanswered_chats
from bot.desk.views import AgentBrief, QueueItem, directory, waiting_items
from bot.store.models import Conversation, HandoffRequest, Message, utcnow


@dataclass(frozen=True)
class TeamQueue:
    """One team's queue right now."""

    team: str
    waiting: int
    longest_wait_seconds: float
    oldest_queued_at: Optional[dt.datetime]


@dataclass(frozen=True)
class ReasonRate:
    """Handoffs of one reason today, as a share of today's conversations."""

    reason: str
    handoffs: int
    conversations: int
    rate: Optional[float]


@dataclass(frozen=True)
class DurationStats:
    """Median and mean of some durations, in seconds (None without data)."""

    count: int
    median_seconds: Optional[float]
    avg_seconds: Optional[float]


@dataclass(frozen=True)
class TodayFigures:
    """Today's numbers (since local midnight in the business time zone)."""

    since: dt.datetime
    conversations: int
    with_handoff: int
    contained: int
    containment: Optional[float]
    handoffs: int
    by_reason: List[ReasonRate]
    first_reply: DurationStats
    handling: DurationStats


@dataclass(frozen=True)
class Overview:
    """The whole supervisor page."""

    queues: List[TeamQueue]
    agents: List[AgentBrief]
    today: TodayFigures
    waiting: List[QueueItem]
    unanswered: List[UnansweredChat]  # held by an agent past the threshold, no reply yet


_TICK = dt.timedelta(microseconds=1)  # first_replies' end is exclusive; today's includes now


def day_start(now: dt.datetime, tz: str) -> dt.datetime:
    """Local midnight of `now` (naive UTC) in zone `tz`, as naive UTC."""
    zone = ZoneInfo(tz)
    local = now.replace(tzinfo=dt.timezone.utc).astimezone(zone)
    midnight = dt.datetime.combine(local.date(), dt.time(0), tzinfo=zone)
    return midnight.astimezone(dt.timezone.utc).replace(tzinfo=None)


def durations(pairs: Sequence[tuple]) -> DurationStats:
    """Stats of (start, end) pairs; pairs with a missing end are skipped."""
    seconds = [max(0.0, (end - start).total_seconds()) for start, end in pairs if start and end]
    if not seconds:
        return DurationStats(0, None, None)
    return DurationStats(len(seconds), statistics.median(seconds), statistics.fmean(seconds))


def team_queues(
    session: Session, teams: Sequence[str], now: Optional[dt.datetime] = None
) -> List[TeamQueue]:
    """Queue length and longest wait for each team (teams without chats show zero)."""
    now = now or utcnow()
    by_team: Dict[str, List[QueueItem]] = {team: [] for team in teams}
    for item in waiting_items(session, None, now):
        by_team.setdefault(item.team, []).append(item)
    result = []
    for team in sorted(by_team):
        items = by_team[team]
        oldest = min((i.queued_at for i in items if i.queued_at), default=None)
        longest = max((i.waiting_seconds for i in items), default=0.0)
        result.append(TeamQueue(team, len(items), longest, oldest))
    return result


def today_figures(session: Session, now: Optional[dt.datetime], tz: str) -> TodayFigures:
    """Containment = share of today's conversations (phones that texted today) without a
    handoff today; rates per reason; first human reply (handoffs created today, to the
    first agent text sent: bot/desk/first_replies.py); handling
    time (handoffs resolved today, claimed to resolved). `tz`: the business's time zone."""
    now = now or utcnow()
    since = day_start(now, tz)
    phones = set(
        session.execute(
            select(Conversation.phone)
            .join(Message, Message.conversation_id == Conversation.id)
            .where(
                Message.direction == "in",
                Message.author == "customer",
                Message.created_at >= since,
                Message.created_at <= now,
            )
            .distinct()
        ).scalars()
    )
    handoffs = (
        session.execute(
            select(HandoffRequest).where(
                HandoffRequest.created_at >= since, HandoffRequest.created_at <= now
            )
        )
        .scalars()
        .all()
    )
    handed = {h.phone for h in handoffs} & phones
    reasons: Dict[str, List[HandoffRequest]] = {}
    for h in handoffs:
        reasons.setdefault(h.reason, []).append(h)
    total = len(phones)
    by_reason = [
        ReasonRate(
            reason,
            len(rows),
            len({r.phone for r in rows} & phones),
            (len({r.phone for r in rows} & phones) / total) if total else None,
        )
        for reason, rows in sorted(reasons.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    ]
    first_reply = durations(
        [(r.queued_at, r.sent_at) for r in first_replies(session, since, now + _TICK)]
    )
    resolved = session.execute(
        select(HandoffRequest.claimed_at, HandoffRequest.resolved_at).where(
            HandoffRequest.status == "resolved",
            HandoffRequest.resolved_at >= since,
            HandoffRequest.resolved_at <= now,
            HandoffRequest.claimed_at.isnot(None),
        )
    ).all()
    return TodayFigures(
        since,
        total,
        len(handed),
        total - len(handed),
        ((total - len(handed)) / total) if total else None,
        len(handoffs),
        by_reason,
        first_reply,
        durations([tuple(row) for row in resolved]),
    )


def overview(
    session: Session,
    tz: str,
    unanswered_after: dt.timedelta,
    now: Optional[dt.datetime] = None,
) -> Overview:
    """Queues, agents and today's figures (days in the time zone `tz`), and chats held
    without a reply for longer than `unanswered_after`, in one read."""
    now = now or utcnow()
    people = directory(session)
    return Overview(
        team_queues(session, people.teams, now),
        people.agents,
        today_figures(session, now, tz),
        waiting_items(session, None, now),
        unanswered_chats(session, unanswered_after, now),
    )
