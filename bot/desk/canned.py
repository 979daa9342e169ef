"""Canned replies: saved texts agents insert into a reply. Supervisors add, edit and delete
them; the built-in defaults are seeded once, on first use of an empty table."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, List, Optional

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.store.models import CannedReply, utcnow

MAX_TITLE_CHARS = 80
MAX_TEXT_CHARS = 640  # four SMS segments; canned texts should be far shorter
PLACEHOLDERS = ("first_name", "agent")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")

# {first_name}: the customer's first name; {agent}: the agent's (filled when inserted).
DEFAULTS = [
    (
        "Greeting",
        "Hi {first_name}, this is {agent} from Harborview. I'm looking into this now.",
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


class CannedError(ValueError):
    """A canned reply that cannot be saved (the message says why)."""


@dataclass(frozen=True)
class CannedView:
    """A canned reply."""

    id: int
    title: str
    text: str
    team: Optional[str]


def _view(row: CannedReply) -> CannedView:
    return CannedView(row.id, row.title, row.text, row.team)


def ensure_defaults(session: Session) -> int:
    """Seed the defaults if the table never held a reply (deleted ones count); how many."""
    if session.execute(select(func.count()).select_from(CannedReply)).scalar():
        return 0
    for title, text, team in DEFAULTS:
        session.add(CannedReply(title=title, text=text, team=team))
    session.flush()
    return len(DEFAULTS)


def canned_for(session: Session, teams: Optional[Iterable[str]] = None) -> List[CannedView]:
    """Canned replies for every team plus these teams' own (None: all of them)."""
    ensure_defaults(session)
    query = (
        select(CannedReply)
        .where(CannedReply.deleted_at.is_(None))
        .order_by(CannedReply.team.isnot(None), CannedReply.team, CannedReply.title, CannedReply.id)
    )
    if teams is not None:
        query = query.where(or_(CannedReply.team.is_(None), CannedReply.team.in_(list(teams))))
    return [_view(c) for c in session.execute(query).scalars()]


def find_canned(
    session: Session, canned_id: int, teams: Optional[Iterable[str]] = None
) -> Optional[CannedView]:
    """One live canned reply these teams may use (None: any team); None if not theirs."""
    row = session.get(CannedReply, canned_id)
    if row is None or row.deleted_at is not None:
        return None
    if teams is not None and row.team is not None and row.team not in set(teams):
        return None
    return _view(row)


def _checked(title: str, text: str, team: Optional[str], known_teams: Iterable[str]) -> tuple:
    title, text = title.strip(), text.strip()
    team = (team or "").strip() or None
    if not title:
        raise CannedError("a title is required")
    if len(title) > MAX_TITLE_CHARS:
        raise CannedError(f"the title is longer than {MAX_TITLE_CHARS} characters")
    if not text:
        raise CannedError("the text is required")
    if len(text) > MAX_TEXT_CHARS:
        raise CannedError(f"the text is longer than {MAX_TEXT_CHARS} characters")
    unknown = sorted({m for m in _PLACEHOLDER.findall(text) if m not in PLACEHOLDERS})
    if unknown:
        raise CannedError(f"unknown placeholder {{{unknown[0]}}}; use {{first_name}} or {{agent}}")
    if team is not None and team not in set(known_teams):
        raise CannedError(f"unknown team {team!r}")
    return title, text, team


def create_canned(
    session: Session,
    title: str,
    text: str,
    team: Optional[str],
    by_agent_id: int,
    known_teams: Iterable[str],
) -> CannedView:
    """Add a canned reply (team None: every team); CannedError if it is not valid."""
    ensure_defaults(session)
    title, text, team = _checked(title, text, team, known_teams)
    row = CannedReply(title=title, text=text, team=team, updated_by=by_agent_id)
    session.add(row)
    session.flush()
    return _view(row)


def update_canned(
    session: Session,
    canned_id: int,
    title: str,
    text: str,
    team: Optional[str],
    by_agent_id: int,
    known_teams: Iterable[str],
) -> Optional[CannedView]:
    """Change a canned reply; None if it does not exist (or was deleted)."""
    row = session.get(CannedReply, canned_id)
    if row is None or row.deleted_at is not None:
        return None
    row.title, row.text, row.team = _checked(title, text, team, known_teams)
    row.updated_by = by_agent_id
    row.updated_at = utcnow()
    session.flush()
    return _view(row)


def delete_canned(session: Session, canned_id: int, by_agent_id: int) -> bool:
    """Delete a canned reply (kept as deleted); False if there was none."""
    row = session.get(CannedReply, canned_id)
    if row is None or row.deleted_at is not None:
        return False
    row.deleted_at = utcnow()
    row.updated_by = by_agent_id
    return True


def _first_word(name: Optional[str]) -> str:
    words = (name or "").split()
    return words[0] if words else ""


def _drop(text: str, key: str) -> str:
    """Remove {key} gracefully: "Hi {key}, x" -> "Hi, x"; "{key}, thanks" -> "Thanks"."""
    mark = "{" + key + "}"
    text, leading = re.subn(r"^\s*" + re.escape(mark) + r"\s*[,:;!-]?\s*", "", text)
    if leading:
        text = text[:1].upper() + text[1:]
    text = re.sub(r"[ \t]+" + re.escape(mark), "", text)
    return text.replace(mark, "")


def fill(text: str, first_name: Optional[str], agent_name: Optional[str]) -> str:
    """The text with {first_name} and {agent} filled; an unknown name is dropped."""
    for key, name in (("first_name", _first_word(first_name)), ("agent", _first_word(agent_name))):
        text = text.replace("{" + key + "}", name) if name else _drop(text, key)
    return re.sub(r"[ \t]{2,}", " ", text).strip()
