"""The desk's background duties, run by every console process (all steps are atomic):
agents whose console is silent past the heartbeat timeout get no new chats, and past the
grace period after it go offline (chats requeued); waiting chats are auto-assigned; a
texter nobody claimed in time is offered the bot or a longer wait. Each round that
succeeds is recorded (bot/desk/maintenance_beat.py): the bot promises an assignment only
while a loop runs."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Dict, Optional

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.desk.agents import expire_silent_agents
from bot.desk.maintenance_beat import LOOP_INTERVAL_SECONDS, record_beat
from bot.desk.notices import WAIT_OFFER
from bot.desk.routing import auto_assign
from bot.outbound.service import request_text
from bot.settings import Settings
from bot.store.db import run_sync, session_scope
from bot.store.events import publish
from bot.store.models import Conversation, DeskEvent, Message, utcnow
from bot.store.ownership import QUEUE

logger = logging.getLogger(__name__)


def last_agent_activity(session: Session, conversation_id: int) -> Optional[dt.datetime]:
    """When an agent last texted the customer or transferred the chat (None: never)."""
    texted = session.execute(
        select(func.max(Message.created_at)).where(
            Message.conversation_id == conversation_id,
            Message.direction == "out",
            Message.author.like("agent:%"),
        )
    ).scalar()
    moved = session.execute(
        select(func.max(DeskEvent.created_at)).where(
            DeskEvent.conversation_id == conversation_id, DeskEvent.kind == "transferred"
        )
    ).scalar()
    return max((t for t in (texted, moved) if t is not None), default=None)


def offer_bot_to_long_waiters(
    session: Session, older_than: dt.timedelta, settings: Settings
) -> int:
    """Texters queued longer than `older_than` get the offer once per handoff (BOT or
    WAIT), through the outbound service (consent; no quiet hours: the texter is waiting
    for an answer right now, and a late offer would be stale). Not within
    DESK_WAIT_OFFER_AFTER_AGENT_SECONDS of an agent's last text or transfer: the texter
    was just being helped (e.g. passed to another team)."""
    now = utcnow()
    cutoff = now - older_than
    quiet_since = now - dt.timedelta(seconds=settings.desk_wait_offer_after_agent_seconds)
    candidates = session.execute(
        select(
            Conversation.id, Conversation.phone, Conversation.team, Conversation.handoff_id
        ).where(
            Conversation.owner == QUEUE,
            Conversation.wait_offer_sent_at.is_(None),
            Conversation.queued_at < cutoff,
        )
    ).all()
    offered = 0
    for conversation_id, phone, team, handoff_id in candidates:
        helped = last_agent_activity(session, conversation_id)
        if helped is not None and helped > quiet_since:
            continue
        won = session.execute(
            update(Conversation)
            .where(
                Conversation.id == conversation_id,
                Conversation.owner == QUEUE,
                Conversation.wait_offer_sent_at.is_(None),
            )
            .values(wait_offer_sent_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        if won:
            request_text(
                session,
                settings,
                phone=phone,
                kind="wait_offer",
                body=WAIT_OFFER,
                idempotency_key=f"handoff-{handoff_id or f'conversation-{conversation_id}'}",
                quiet_hours=False,
            )
            publish(session, "wait_offer", conversation_id, team=team)
            offered += 1
    return offered


def maintain_once(settings: Settings) -> Dict[str, int]:
    """One round on `settings.database_url` (its timeouts come from `settings` too), then
    the loop's heartbeat: only a round that got this far is recorded."""
    url = settings.database_url
    heartbeat_timeout = dt.timedelta(seconds=settings.agent_heartbeat_timeout_seconds)
    grace = dt.timedelta(seconds=settings.desk_presence_grace_seconds)
    with session_scope(url) as session:
        expired = expire_silent_agents(session, heartbeat_timeout + grace)
    with session_scope(url) as session:
        assigned = auto_assign(session, heartbeat_timeout)
    with session_scope(url) as session:
        offered = offer_bot_to_long_waiters(
            session, dt.timedelta(seconds=settings.unclaimed_offer_seconds), settings
        )
    with session_scope(url) as session:
        record_beat(session)
    return {"expired_agents": len(expired), "assigned": len(assigned), "offered": offered}


async def maintenance_loop(settings: Settings, interval: float = LOOP_INTERVAL_SECONDS) -> None:
    """Run forever; a failed round (e.g. database down) is logged and retried."""
    while True:
        try:
            done = await run_sync(maintain_once, settings)
            if any(done.values()):
                logger.info("desk maintenance: %s", done)
        except Exception:  # noqa: BLE001
            logger.exception("desk maintenance round failed")
        await asyncio.sleep(interval)
