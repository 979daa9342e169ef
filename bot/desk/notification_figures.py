"""The supervisor's notification figures: over the last days, how many notifications
were requested, sent, delivered, failed or suppressed, and how many got a reply from the
customer within 24 hours of leaving, by template."""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from typing import Any, Dict, List

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.outbound.notifications import NOTIFICATION_KINDS
from bot.store.models import Conversation, Message, OutboundText, OutboxMessage, utcnow

REPLY_WINDOW = dt.timedelta(hours=24)
SENT_STATUSES = frozenset({"sent", "delivered", "undelivered", "failed"})
COLUMNS = ("requested", "sent", "delivered", "failed", "suppressed", "replied")


def _replies(session: Session, phones: List[str], since: dt.datetime) -> Dict[str, List]:
    """The customers' inbound text times since `since`, sorted, by phone."""
    found: Dict[str, List[dt.datetime]] = defaultdict(list)
    if not phones:
        return found
    rows = session.execute(
        select(Conversation.phone, Message.created_at)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Conversation.phone.in_(phones),
            Message.direction == "in",
            Message.created_at >= since,
        )
        .order_by(Message.created_at)
    ).all()
    for phone, at in rows:
        found[phone].append(at)
    return found


def notification_figures(session: Session, days: int = 7) -> Dict[str, Any]:
    """Counts by template and in total over the last `days` days (by request time)."""
    since = utcnow() - dt.timedelta(days=days)
    rows = session.execute(
        select(
            OutboundText.kind,
            OutboundText.phone,
            OutboundText.status,
            OutboxMessage.status,
            OutboxMessage.sent_at,
        )
        .outerjoin(OutboxMessage, OutboxMessage.id == OutboundText.outbox_id)
        .where(OutboundText.kind.in_(NOTIFICATION_KINDS), OutboundText.created_at >= since)
    ).all()
    replies = _replies(session, sorted({row[1] for row in rows}), since)
    by_template: Dict[str, Dict[str, int]] = {}
    for kind, phone, status, out_status, sent_at in rows:
        counts = by_template.setdefault(kind, dict.fromkeys(COLUMNS, 0))
        counts["requested"] += 1
        if status == "suppressed" or out_status == "suppressed":
            counts["suppressed"] += 1
        if out_status in ("undelivered", "failed"):
            counts["failed"] += 1
        if out_status == "delivered":
            counts["delivered"] += 1
        if sent_at is None or out_status not in SENT_STATUSES:
            continue
        counts["sent"] += 1
        times = replies.get(phone, [])
        first = bisect.bisect_right(times, sent_at)
        if first < len(times) and times[first] <= sent_at + REPLY_WINDOW:
            counts["replied"] += 1
    total = dict.fromkeys(COLUMNS, 0)
    for counts in by_template.values():
        for column in COLUMNS:
            total[column] += counts[column]
    templates = [{"template": name, **by_template[name]} for name in sorted(by_template)]
    return {"days": days, "total": total, "templates": templates}
