"""Writes made for one inbound text, keyed by its MessageUUID: a replayed turn skips them."""

from __future__ import annotations

from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.models import TurnWrite


def first_write(session: Session, message_id: Optional[str], action: str) -> bool:
    """True if `action` has not been written for this text yet (and records it now);
    always True without a message id (nothing to key on)."""
    if not message_id:
        return True
    found = session.execute(
        select(TurnWrite.message_id).where(
            TurnWrite.message_id == message_id, TurnWrite.action == action
        )
    ).first()
    if found is not None:
        return False
    session.add(TurnWrite(message_id=message_id[:64], action=action))
    session.flush()  # the primary key refuses a concurrent second copy
    return True
