"""Per-agent figures over a range of local dates: chats handled, first reply (median), and
handling time (median), and the average CSAT rating from the survey's figures
(bot/desk/survey_figures.py; None without ratings)."""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass
from typing import Dict, List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.desk.date_range import utc_bounds
from bot.desk.first_replies import first_replies
from bot.desk.survey_figures import csat_average_by_agent
from bot.desk.views import directory
from bot.store.models import HandoffRequest


@dataclass(frozen=True)
class AgentFigures:
    """One agent over the range."""

    agent_id: int
    name: str
    username: str
    teams: List[str]
    handled: int  # handoffs the agent resolved in the range
    first_reply_count: int
    first_reply_median_seconds: Optional[float]  # handoff queued -> their first text sent
    handling_count: int
    handling_median_seconds: Optional[float]  # first assignment -> resolved
    csat: Optional[float] = None  # average CSAT rating (1-5) in the range; None: no ratings


@dataclass(frozen=True)
class AgentFiguresReport:
    """The table and its range (local dates; UTC bounds, end exclusive)."""

    date_from: dt.date
    date_to: dt.date
    tz: str
    start: dt.datetime
    end: dt.datetime
    agents: List[AgentFigures]


def _median(values: List[float]) -> Optional[float]:
    return statistics.median(values) if values else None


def _first_replies(
    session: Session, start: dt.datetime, end: dt.datetime
) -> Dict[int, List[float]]:
    """agent id -> seconds to each first reply they sent (bot/desk/first_replies.py)."""
    result: Dict[int, List[float]] = {}
    for reply in first_replies(session, start, end):
        result.setdefault(reply.agent_id, []).append(reply.seconds)
    return result


def _resolved(session: Session, start: dt.datetime, end: dt.datetime) -> Dict[int, list]:
    """agent id -> (claimed_at, resolved_at) of the handoffs they resolved in the range."""
    rows = session.execute(
        select(
            HandoffRequest.agent_id, HandoffRequest.claimed_at, HandoffRequest.resolved_at
        ).where(
            HandoffRequest.status == "resolved",
            HandoffRequest.agent_id.isnot(None),
            HandoffRequest.resolved_at >= start,
            HandoffRequest.resolved_at < end,
        )
    ).all()
    result: Dict[int, list] = {}
    for agent_id, claimed_at, resolved_at in rows:
        result.setdefault(agent_id, []).append((claimed_at, resolved_at))
    return result


def agent_figures(
    session: Session, date_from: dt.date, date_to: dt.date, tz: str
) -> AgentFiguresReport:
    """Every active agent's figures for the local dates date_from..date_to (inclusive)."""
    start, end = utc_bounds(date_from, date_to, tz)
    first = _first_replies(session, start, end)
    resolved = _resolved(session, start, end)
    csat = csat_average_by_agent(session, start, end)
    rows = []
    for agent in directory(session).agents:
        done = resolved.get(agent.id, [])
        handling = [
            max(0.0, (resolved_at - claimed_at).total_seconds())
            for claimed_at, resolved_at in done
            if claimed_at is not None
        ]
        replies = first.get(agent.id, [])
        rows.append(
            AgentFigures(
                agent.id,
                agent.name,
                agent.username,
                agent.teams,
                len(done),
                len(replies),
                _median(replies),
                len(handling),
                _median(handling),
                csat.get(agent.id),
            )
        )
    rows.sort(key=lambda r: (-r.handled, r.name.lower()))
    return AgentFiguresReport(date_from, date_to, tz, start, end, rows)
