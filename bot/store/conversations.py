"""Conversations: one per customer phone, created on first contact."""

from __future__ import annotations

from typing import Union

from sqlalchemy import bindparam, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.store.models import Conversation

_ID_BY_PHONE = select(Conversation.id).where(Conversation.phone == bindparam("phone"))


def conversation_id_for(session: Union[Session, Connection], phone: str) -> int:
    """The id of the phone's conversation (created on first contact); no ORM objects."""
    found = session.execute(_ID_BY_PHONE, {"phone": phone}).first()
    if found is not None:
        return found[0]
    try:
        with session.begin_nested():
            return session.execute(insert(Conversation).values(phone=phone)).inserted_primary_key[0]
    except IntegrityError:  # created by another worker at the same moment
        return session.execute(
            select(Conversation.id).where(Conversation.phone == phone)
        ).scalar_one()


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
