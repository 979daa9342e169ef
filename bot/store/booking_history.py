"""The history of a room request: one row per change, by an agent, the customer or the bot."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.store.models import Agent, BookingRequestHistory, utcnow

AGENT, CUSTOMER, BOT = "agent", "customer", "bot"
ACTORS = (AGENT, CUSTOMER, BOT)
Changed = Dict[str, List[Any]]  # {"guests": [2, 3]}: the field's value before and after


@dataclass(frozen=True)
class HistoryEntry:
    id: int
    at: dt.datetime
    actor: str
    agent_id: Optional[int]
    agent_name: Optional[str]
    from_status: Optional[str]
    to_status: str
    note: Optional[str]
    changed: Changed
    outbound_text_id: Optional[int]


def record_change(
    session: Session,
    request_id: int,
    actor: str,
    to_status: str,
    *,
    from_status: Optional[str] = None,
    agent_id: Optional[int] = None,
    note: Optional[str] = None,
    changed: Optional[Changed] = None,
    at: Optional[dt.datetime] = None,
) -> int:
    """Append one change (in the caller's transaction); its id."""
    if actor not in ACTORS:
        raise ValueError(f"actor must be one of {', '.join(ACTORS)} (got {actor!r})")
    if (actor == AGENT) != (agent_id is not None):
        raise ValueError("an agent's change names the agent, and only an agent's")
    row = BookingRequestHistory(
        request_id=request_id,
        at=at or utcnow(),
        actor=actor,
        agent_id=agent_id,
        from_status=from_status,
        to_status=to_status,
        note=note,
        changed=json.dumps(changed, default=str, sort_keys=True) if changed else None,
    )
    session.add(row)
    session.flush()
    return row.id


def link_text(session: Session, history_id: int, outbound_text_id: int) -> None:
    """The outcome text a change asked for."""
    session.execute(
        update(BookingRequestHistory)
        .where(BookingRequestHistory.id == history_id)
        .values(outbound_text_id=outbound_text_id)
        .execution_options(synchronize_session=False)
    )


def history_of(session: Session, request_id: int) -> List[HistoryEntry]:
    """Every change of one request, oldest first."""
    rows = session.execute(
        select(BookingRequestHistory, Agent.name)
        .outerjoin(Agent, Agent.id == BookingRequestHistory.agent_id)
        .where(BookingRequestHistory.request_id == request_id)
        .order_by(BookingRequestHistory.id)
        .execution_options(populate_existing=True)
    ).all()
    return [
        HistoryEntry(
            h.id,
            h.at,
            h.actor,
            h.agent_id,
            name,
            h.from_status,
            h.to_status,
            h.note,
            json.loads(h.changed) if h.changed else {},
            h.outbound_text_id,
        )
        for h, name in rows
    ]
