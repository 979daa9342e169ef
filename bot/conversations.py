"""Conversations: one per customer phone, created on first contact."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.models import Conversation


def get_or_create_conversation(session: Session, phone: str) -> Conversation:
    """The phone's conversation; safe when two workers create it at the same moment."""
    found = session.execute(
        select(Conversation).where(Conversation.phone == phone)
    ).scalar_one_or_none()
    if found is not None:
        return found
    try:
        with session.begin_nested():
            conversation = Conversation(phone=phone)
            session.add(conversation)
        return conversation
    except IntegrityError:
        return session.execute(select(Conversation).where(Conversation.phone == phone)).scalar_one()
