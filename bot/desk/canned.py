"""Canned replies: saved texts agents insert into a reply (defaults seeded when empty)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, List, Optional

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.store.models import CannedReply

# {customer} and {agent} are filled in by the console (first names).
DEFAULTS = [
    (
        "Greeting",
        "Hi {customer}, this is {agent} from Harborview. I'm looking into this now.",
        None,
    ),
    ("One moment", "Thanks for waiting. Give me a minute to check that for you.", None),
    (
        "Anything else?",
        "Is there anything else I can help with? If not, I'll hand you back to our assistant.",
        None,
    ),
    ("Closing", "Glad I could help. Text us here anytime. Have a great day!", None),
    (
        "Order: looking it up",
        "I'm checking your order with the warehouse now and will text you back shortly.",
        "orders",
    ),
    (
        "Order: need number",
        "Could you send me your order number? It starts with a letter, e.g. A1001.",
        "orders",
    ),
    (
        "Booking: request noted",
        "I've noted your room request. Our front desk confirms availability by text within a day.",
        "bookings",
    ),
]


@dataclass(frozen=True)
class CannedView:
    """A canned reply."""

    id: int
    title: str
    text: str
    team: Optional[str]


def ensure_defaults(session: Session) -> int:
    """Seed the default canned replies if the table is empty; returns how many were added."""
    if session.execute(select(func.count()).select_from(CannedReply)).scalar():
        return 0
    for title, text, team in DEFAULTS:
        session.add(CannedReply(title=title, text=text, team=team))
    session.flush()
    return len(DEFAULTS)


def canned_for(session: Session, teams: Optional[Iterable[str]] = None) -> List[CannedView]:
    """Canned replies for every team plus these teams' own (None: all of them)."""
    ensure_defaults(session)
    query = select(CannedReply).order_by(CannedReply.team.isnot(None), CannedReply.id)
    if teams is not None:
        query = query.where(or_(CannedReply.team.is_(None), CannedReply.team.in_(list(teams))))
    return [CannedView(c.id, c.title, c.text, c.team) for c in session.execute(query).scalars()]
