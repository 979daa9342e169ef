"""Searching past conversations by phone, customer name, order number or message text.

Every pattern is matched literally (ILIKE with `%`, `_` and the escape character escaped),
case-insensitively; results are conversations, newest last message first, a page at a time."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from sqlalchemy import func, literal_column, select, union
from sqlalchemy.orm import Session

from bot.desk.agents import list_agents
from bot.store.models import Conversation, Customer, Message, Order

MIN_QUERY_CHARS = 2
MAX_QUERY_CHARS = 100
MAX_PAGE = 50
TEXT_MATCH_CAP = 1000  # newest matching messages looked at per search (bounds the scan)
SNIPPET_CHARS = 90
ESCAPE = "\\"
_PHONE_CHARS = re.compile(r"^[\d\s()+.\-]+$")


class SearchError(ValueError):
    """A query that cannot be searched (too short, too long)."""


@dataclass(frozen=True)
class SearchHit:
    """A conversation that matched, as the result list shows it."""

    conversation_id: int
    phone: str
    customer_name: Optional[str]
    status: str  # bot | queue | agent
    agent_name: Optional[str]
    team: Optional[str]
    matched: List[str]  # phone | name | order | text
    snippet: str  # the newest matching text, else the last text
    last_at: Optional[dt.datetime]


@dataclass(frozen=True)
class SearchPage:
    """One page of results."""

    query: str
    items: List[SearchHit]
    offset: int
    next_offset: Optional[int]


def like_pattern(query: str) -> str:
    """`%query%` with LIKE's wildcards and the escape character taken literally."""
    escaped = (
        query.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")
    )
    return f"%{escaped}%"


def _snippet(text: str, query: str) -> str:
    """About SNIPPET_CHARS of `text` around the first match of `query`."""
    text = " ".join((text or "").split())
    if len(text) <= SNIPPET_CHARS:
        return text
    at = text.lower().find(query.lower())
    start = max(0, min(at - SNIPPET_CHARS // 3, len(text) - SNIPPET_CHARS)) if at >= 0 else 0
    piece = text[start : start + SNIPPET_CHARS]
    return ("…" if start else "") + piece + ("…" if start + SNIPPET_CHARS < len(text) else "")


def _matching_ids(session: Session, query: str) -> Dict[int, List[str]]:
    """conversation id -> what matched."""
    pattern = like_pattern(query)
    by_customer = Customer.phone == Conversation.phone
    parts = [
        select(Conversation.id.label("cid"), literal_column("'name'").label("what"))
        .join(Customer, by_customer)
        .where(Customer.name.ilike(pattern, escape=ESCAPE)),
        select(Conversation.id.label("cid"), literal_column("'order'").label("what"))
        .join(Customer, by_customer)
        .join(Order, Order.customer_id == Customer.id)
        .where(Order.number.ilike(pattern, escape=ESCAPE)),
    ]
    digits = re.sub(r"\D", "", query)
    if _PHONE_CHARS.match(query) and len(digits) >= 3:
        parts.append(
            select(Conversation.id.label("cid"), literal_column("'phone'").label("what")).where(
                Conversation.phone.like(like_pattern(digits), escape=ESCAPE)
            )
        )
    found: Dict[int, List[str]] = {}
    for cid, what in session.execute(union(*parts)).all():
        found.setdefault(cid, []).append(what)
    texts = (
        select(Message.conversation_id)
        .where(Message.text.ilike(pattern, escape=ESCAPE))
        .order_by(Message.id.desc())
        .limit(TEXT_MATCH_CAP)
    )
    for cid in set(session.execute(texts).scalars()):
        found.setdefault(cid, []).append("text")
    return found


def _last_texts(session: Session, ids: Sequence[int], query: Optional[str]) -> Dict[int, Tuple]:
    """conversation id -> (text, created_at) of its newest (matching, if `query`) message."""
    if not ids:
        return {}
    newest = select(Message.conversation_id, func.max(Message.id).label("last_id")).where(
        Message.conversation_id.in_(list(ids))
    )
    if query is not None:
        newest = newest.where(Message.text.ilike(like_pattern(query), escape=ESCAPE))
    newest = newest.group_by(Message.conversation_id).subquery()
    rows = session.execute(
        select(Message.conversation_id, Message.text, Message.kind, Message.created_at).join(
            newest, Message.id == newest.c.last_id
        )
    ).all()
    return {
        cid: ((text or "").strip() or ("[picture]" if kind == "mms" else ""), at)
        for cid, text, kind, at in rows
    }


def search_conversations(
    session: Session, query: str, limit: int = 20, offset: int = 0
) -> SearchPage:
    """Conversations matching `query`, newest last message first; SearchError if unusable."""
    query = " ".join(query.split())
    if len(query) < MIN_QUERY_CHARS:
        raise SearchError(f"type at least {MIN_QUERY_CHARS} characters")
    if len(query) > MAX_QUERY_CHARS:
        raise SearchError(f"at most {MAX_QUERY_CHARS} characters")
    limit = max(1, min(limit, MAX_PAGE))
    offset = max(0, offset)
    found = _matching_ids(session, query)
    if not found:
        return SearchPage(query, [], offset, None)
    # each conversation's newest message id: one index lookup per match, not a join of all
    last_id = (
        select(func.max(Message.id))
        .where(Message.conversation_id == Conversation.id)
        .scalar_subquery()
    )
    ordered = session.execute(
        select(Conversation.id, last_id)
        .where(Conversation.id.in_(list(found)))
        .order_by(func.coalesce(last_id, 0).desc(), Conversation.id.desc())
        .limit(limit + 1)
        .offset(offset)
    ).all()
    page_ids = [cid for cid, _ in ordered[:limit]]
    rows = {
        c.id: (c, name)
        for c, name in session.execute(
            select(Conversation, Customer.name)
            .outerjoin(Customer, Customer.phone == Conversation.phone)
            .where(Conversation.id.in_(page_ids))
        ).all()
    }
    last = _last_texts(session, page_ids, None)
    text_ids = [cid for cid in page_ids if "text" in found[cid]]
    matching = _last_texts(session, text_ids, query)
    names = {a.id: a.name for a in list_agents(session)}
    items = []
    for cid in page_ids:
        conversation, name = rows[cid]
        text, at = last.get(cid, ("", None))
        snippet = matching[cid][0] if cid in matching else text
        items.append(
            SearchHit(
                cid,
                conversation.phone,
                name,
                conversation.owner,
                names.get(conversation.agent_id) if conversation.agent_id else None,
                conversation.team,
                sorted(found[cid]),
                _snippet(snippet, query),
                at,
            )
        )
    more = len(ordered) > limit
    return SearchPage(query, items, offset, offset + limit if more else None)
