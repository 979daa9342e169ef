"""Lifetime history for the history bench: copies of a real session's events, written straight
into Rasa's `events` table under other sender ids, one past session per copy."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Sequence

from sqlalchemy import create_engine, text

SESSION_GAP_S = 6 * 3600.0  # past sessions six hours apart: each one ended by idle expiry


def session_template(tracker_url: str, sender_id: str) -> List[Dict[str, Any]]:
    """The stored events of `sender_id` (one real conversation), in the order Rasa wrote them."""
    engine = create_engine(tracker_url, future=True)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT type_name, timestamp, intent_name, action_name, data FROM events "
                    "WHERE sender_id = :s ORDER BY id"
                ),
                {"s": sender_id},
            ).all()
    finally:
        engine.dispose()
    if not rows:
        raise RuntimeError(f"no events stored for {sender_id}")
    return [dict(row._mapping) for row in rows]


def _shifted(row: Dict[str, Any], sender_id: str, shift: float) -> Dict[str, Any]:
    """One template row for another sender, `shift` seconds earlier."""
    data = json.loads(row["data"])
    timestamp = (row["timestamp"] or 0.0) - shift
    data["timestamp"] = timestamp
    if "sender_id" in data:
        data["sender_id"] = sender_id
    return {
        "sender_id": sender_id,
        "type_name": row["type_name"],
        "timestamp": timestamp,
        "intent_name": row["intent_name"],
        "action_name": row["action_name"],
        "data": json.dumps(data),
    }


def seed_history(
    tracker_url: str,
    template: Sequence[Dict[str, Any]],
    senders: Sequence[str],
    sessions: int,
    now: float,
) -> int:
    """Give each sender `sessions` past sessions ending before `now`; the rows written."""
    first = min(r["timestamp"] or now for r in template)
    written = 0
    engine = create_engine(tracker_url, future=True)
    insert = text(
        "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
        "VALUES (:sender_id, :type_name, :timestamp, :intent_name, :action_name, :data)"
    )
    try:
        for sender in senders:
            rows = []
            for k in range(sessions, 0, -1):  # session k ends k gaps before now
                shift = (first - now) + k * SESSION_GAP_S + 3600.0
                rows.extend(_shifted(r, sender, shift) for r in template)
            with engine.begin() as conn:
                conn.execute(insert, rows)
            written += len(rows)
    finally:
        engine.dispose()
    return written
