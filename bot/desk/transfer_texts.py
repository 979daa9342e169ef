"""The one text a customer gets when an agent passes their chat on: to a team's queue or
to a named colleague (one SMS segment; through the outbound service, so never to an
opted-out number)."""

from __future__ import annotations

import logging
from typing import Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.outbound.service import OutboundRequestError, request_text
from bot.settings import Settings
from bot.store.models import Conversation, DeskEvent

logger = logging.getLogger(__name__)

KIND = "transfer"  # the outbox row's kind


def first_name(name: str) -> str:
    """'Sam Lee' -> 'Sam'."""
    return (name or "").strip().split(" ")[0] or "a colleague"


def transfer_text(team: Optional[str] = None, agent_name: Optional[str] = None) -> str:
    """What the customer is told; names are cut so the text stays one segment (even a
    name outside GSM-7, which makes it UCS-2: 70 characters)."""
    if agent_name:
        return f"I'm passing you to {first_name(agent_name)[:20]}; they'll text you shortly."
    team = (team or "general")[:40]
    return f"I'm passing you to our {team} team; someone will text you shortly."


def tell_customer(
    session: Session,
    settings: Settings,
    conversation_id: int,
    team: Optional[str] = None,
    agent_name: Optional[str] = None,
) -> None:
    """Queue the transfer text, once per transfer (in the transfer's transaction)."""
    phone = session.execute(
        select(Conversation.phone).where(Conversation.id == conversation_id)
    ).scalar_one()
    transfers = session.execute(
        select(func.count())
        .select_from(DeskEvent)
        .where(DeskEvent.conversation_id == conversation_id, DeskEvent.kind == "transferred")
    ).scalar()
    try:
        request_text(
            session,
            settings,
            phone=phone,
            kind=KIND,
            body=transfer_text(team, agent_name),
            idempotency_key=f"conversation-{conversation_id}-transfer-{transfers}",
            quiet_hours=False,
        )
    except OutboundRequestError as problem:  # e.g. a number that cannot be texted
        logger.warning("conversation %s: no transfer text (%s)", conversation_id, problem)
