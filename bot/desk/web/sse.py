"""The live stream (Server-Sent Events): follows the database's change feed for one
console, and doubles as the agent's heartbeat while the console is open."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, Optional

from sanic import Sanic
from sanic.request import Request
from sqlalchemy.orm import Session

from bot.desk import sessions
from bot.desk.agents import get_agent, heartbeat
from bot.desk.watch import open_cursor, poll, topics
from bot.desk.web.auth import current
from bot.desk.web.dbcall import in_db
from bot.desk.web.jsonio import dumps

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.4
HEARTBEAT_SECONDS = 10.0  # at most; more often when the heartbeat timeout is short
PING_SECONDS = 15.0
MAX_STREAM_SECONDS = 30 * 60.0  # then the browser reconnects (with Last-Event-ID)
ERROR_PAUSE_SECONDS = 2.0


def frame(event: str, data: Dict[str, Any], event_id: Optional[int] = None) -> str:
    """One SSE message."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {dumps(data)}\n\n"


def heartbeat_every(timeout_seconds: float) -> float:
    """How often an open console beats: three beats per AGENT_HEARTBEAT_TIMEOUT_SECONDS
    (a console that is open never looks silent), at most every HEARTBEAT_SECONDS."""
    return max(POLL_SECONDS, min(HEARTBEAT_SECONDS, timeout_seconds / 3))


def presence(session: Session, session_id: int, agent_id: int, opened: bool) -> bool:
    """The heartbeat; False once the session ended. An agent who chose `offline` stays
    offline while the console is open (only opening the console brings them online)."""
    if not sessions.session_alive(session, session_id):
        return False
    agent = get_agent(session, agent_id)
    if agent is None:
        return False
    if opened or agent.status != "offline":
        heartbeat(session, agent_id)
    return True


def register(app: Sanic) -> None:
    """Add GET /api/stream."""

    @app.get("/api/stream")
    async def stream(request: Request) -> None:
        """GET /api/stream: Server-Sent Events for this console until it goes away."""
        signed = current(request)
        beat_every = heartbeat_every(request.app.ctx.settings.agent_heartbeat_timeout_seconds)
        agent_id, session_id = signed.agent.id, signed.session_id
        last = (request.headers.get("last-event-id") or "").strip()
        resumed = last.isdigit()
        cursor = await in_db(request.app, open_cursor, int(last) if resumed else None)
        response = await request.respond(
            content_type="text/event-stream; charset=utf-8",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )
        alive = await in_db(request.app, presence, session_id, agent_id, not resumed)
        await response.send(
            "retry: 2000\n" + frame("hello", {"agent_id": agent_id}, cursor.last_event_id)
        )
        loop = asyncio.get_running_loop()
        started = last_beat = last_send = loop.time()
        while alive and loop.time() - started < MAX_STREAM_SECONDS:
            await asyncio.sleep(POLL_SECONDS)
            try:
                changes = await in_db(request.app, poll, cursor)
                now = loop.time()
                if now - last_beat >= beat_every:
                    last_beat = now
                    alive = await in_db(request.app, presence, session_id, agent_id, False)
            except Exception:  # noqa: BLE001 - database hiccup: keep the stream, retry
                logger.warning("live stream poll failed", exc_info=True)
                await asyncio.sleep(ERROR_PAUSE_SECONDS)
                continue
            chunks = []
            for change in changes:
                data = {
                    "kind": change.kind,
                    "topics": topics(change),
                    "conversation_id": change.conversation_id,
                    "agent_id": change.agent_id,
                    "team": change.team,
                }
                name = "conversation" if change.event_id is None else "desk"
                chunks.append(frame(name, data, change.event_id))
            if not alive:
                chunks.append(frame("signed_out", {}))
            if chunks:
                await response.send("".join(chunks))
                last_send = now
            elif now - last_send >= PING_SECONDS:
                await response.send(": ping\n\n")
                last_send = now
        await response.eof()
