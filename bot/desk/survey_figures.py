"""Survey figures over a date range: CSAT per agent and per team (share of 4-5, average,
count), NPS (% promoters 9-10 minus % detractors 0-6), and the answers as CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import statistics
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.desk.date_range import utc_bounds
from bot.store.models import Agent, Customer, Survey
from bot.store.surveys import CSAT, NPS

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class CsatGroup:
    """CSAT of one agent or team (or everyone)."""

    key: str
    label: str
    count: int
    satisfied: int  # ratings of 4 or 5
    satisfied_share: Optional[float]
    average: Optional[float]


@dataclass(frozen=True)
class NpsFigures:
    count: int
    promoters: int
    passives: int
    detractors: int
    score: Optional[float]  # -100..100


@dataclass(frozen=True)
class SurveyFigures:
    start: dt.date
    end: dt.date  # inclusive
    csat: CsatGroup
    agents: List[CsatGroup]
    teams: List[CsatGroup]
    nps: NpsFigures


def _group(key: str, label: str, scores: Sequence[int]) -> CsatGroup:
    satisfied = sum(1 for s in scores if s >= 4)
    return CsatGroup(
        key,
        label,
        len(scores),
        satisfied,
        satisfied / len(scores) if scores else None,
        round(statistics.fmean(scores), 2) if scores else None,
    )


def _answered(session: Session, kind: str, since: dt.datetime, until: dt.datetime) -> list:
    return session.execute(
        select(Survey, Agent.name, Customer.name)
        .outerjoin(Agent, Agent.id == Survey.agent_id)
        .outerjoin(Customer, Customer.id == Survey.customer_id)
        .where(
            Survey.kind == kind,
            Survey.score.isnot(None),
            Survey.answered_at >= since,
            Survey.answered_at < until,
        )
        .order_by(Survey.answered_at, Survey.id)
    ).all()


def survey_figures(session: Session, start: dt.date, end: dt.date, tz: str) -> SurveyFigures:
    """The figures of answers given from `start` to `end` (days in the zone `tz`)."""
    since, until = utc_bounds(start, end, tz)
    rows = _answered(session, CSAT, since, until)
    by_agent: Dict[Tuple[str, str], List[int]] = {}
    by_team: Dict[str, List[int]] = {}
    for survey, agent_name, _customer in rows:
        agent_key = (str(survey.agent_id or ""), agent_name or "(no agent)")
        by_agent.setdefault(agent_key, []).append(survey.score)
        by_team.setdefault(survey.team or "general", []).append(survey.score)
    scores = [survey.score for survey, _a, _c in rows]
    nps = [survey.score for survey, _a, _c in _answered(session, NPS, since, until)]
    promoters = sum(1 for s in nps if s >= 9)
    detractors = sum(1 for s in nps if s <= 6)
    return SurveyFigures(
        start,
        end,
        _group("all", "Everyone", scores),
        [_group(key, label, s) for (key, label), s in sorted(by_agent.items(), key=_by_label)],
        [_group(team, team, s) for team, s in sorted(by_team.items())],
        NpsFigures(
            len(nps),
            promoters,
            len(nps) - promoters - detractors,
            detractors,
            round((promoters - detractors) * 100 / len(nps), 1) if nps else None,
        ),
    )


def csat_average_by_agent(
    session: Session, since: dt.datetime, until: dt.datetime
) -> Dict[int, float]:
    """agent id -> average CSAT rating (one decimal) of answers in [since, until)."""
    scores: Dict[int, List[int]] = {}
    for survey, _agent, _customer in _answered(session, CSAT, since, until):
        if survey.agent_id is not None:
            scores.setdefault(survey.agent_id, []).append(survey.score)
    return {agent: round(statistics.fmean(s), 1) for agent, s in scores.items()}


def _by_label(item: tuple) -> tuple:
    (_key, label), _scores = item
    return (label.lower(), _key)


CSV_HEADER = (
    "answered_at_utc",
    "kind",
    "score",
    "comment",
    "phone",
    "customer",
    "agent",
    "team",
    "campaign_id",
)


def safe_cell(value: object) -> str:
    """A cell a spreadsheet shows as text: one starting with = + - @ (a formula) gets a
    leading quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def answers_csv(session: Session, start: dt.date, end: dt.date, tz: str) -> str:
    """Every answered survey in the range, one row each (csv quoting, formula-safe)."""
    since, until = utc_bounds(start, end, tz)
    rows = _answered(session, CSAT, since, until) + _answered(session, NPS, since, until)
    rows.sort(key=lambda row: (row[0].answered_at, row[0].id))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for survey, agent_name, customer_name in rows:
        writer.writerow(
            safe_cell(value)
            for value in (
                survey.answered_at.isoformat(timespec="seconds") + "Z",
                survey.kind,
                survey.score,
                survey.comment or "",
                survey.phone,
                customer_name or "",
                agent_name or "",
                survey.team or "",
                survey.campaign_id or "",
            )
        )
    return out.getvalue()
