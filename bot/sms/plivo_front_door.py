"""Plivo's webhooks: verify, record, acknowledge (served by bot/sms/receiver.py).

POST webhook   inbound texts (V3-signed): the text and its nonce recorded in one
               transaction (one statement on PostgreSQL, which also wakes the workers
               with NOTIFY; on SQLite one writer thread commits the texts that arrive
               together at once, bot/sms/inbound_batch.py), then 200; the workers
               (bot/sms/worker.py) answer it
POST status    delivery reports for the outbox
GET  /         health (outbox counts, texts waiting)
"""

from __future__ import annotations

import dataclasses
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Optional

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from bot.settings import Settings
from bot.sms import outbox, queue
from bot.sms.inbound import RECEIVED, record_inbound, record_inbound_in_one_statement
from bot.sms.inbound_batch import InboundWriter, record_each
from bot.sms.plivo_webhook import (
    InboundSms,
    ReplayedNonce,
    WebhookError,
    first,
    inbound_from_form,
    parse_form,
    remember_nonce,
    signature_is_valid,
)
from bot.store.db import (
    connection_scope,
    get_engine,
    retry_if_disconnected,
    run_sync,
    run_sync_in,
    session_scope,
)
from bot.store.models import Message, OutboxMessage
from bot.text.phone import to_e164

logger = logging.getLogger(__name__)

WEBHOOK_PREFIX = "/webhooks/plivo"
# Recording an inbound text is what Plivo waits for: it gets threads of its own.
_ACK_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="plivo-ack")


class _TakeTheGeneralPath(Exception):
    pass


def _record_in_one_statement(sms: InboundSms, nonce: str) -> Optional[int]:
    """PostgreSQL's fast path; None: use the general one (nothing was written)."""
    try:
        with connection_scope() as connection:
            message_id = record_inbound_in_one_statement(
                connection, nonce, sms.phone, sms.text, sms.uuid, sms.kind, sms.media, sms.intent
            )
            if message_id is None:
                raise _TakeTheGeneralPath()  # roll the nonce back too
            return message_id
    except _TakeTheGeneralPath:
        return None
    except IntegrityError as error:
        diag = getattr(error.orig, "diag", None)
        if getattr(diag, "table_name", None) == "webhook_nonces":
            raise WebhookError(403, "replayed signature nonce") from error
        raise


def _record_in(connection: Connection, sms: InboundSms, nonce: str) -> Optional[int]:
    """Nonce and message (and on PostgreSQL the workers' wake-up); None for a MessageUUID
    recorded before (Plivo's retry)."""
    if not remember_nonce(connection, nonce):
        raise ReplayedNonce()
    message_id = record_inbound(
        connection, sms.phone, sms.text, sms.uuid, sms.kind, sms.media, sms.intent
    )
    if message_id is not None and connection.dialect.name == "postgresql":
        queue.notify(connection, message_id)
    return message_id


def _record(sms: InboundSms, nonce: str) -> Optional[int]:
    """Nonce and message in one (durable: Plivo gets its 200 after it) transaction;
    raises WebhookError on a replay."""
    engine = get_engine()
    if engine.dialect.name == "sqlite":
        outcome = record_each(engine, [(sms, nonce)])[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome
    if engine.dialect.name == "postgresql":
        message_id = _record_in_one_statement(sms, nonce)
        if message_id is not None:
            return message_id
    with connection_scope() as connection:
        return _record_in(connection, sms, nonce)


def _apply_status_in(
    connection: Connection, nonce: str, uuid: str, status: str, error_code: Optional[str]
) -> bool:
    """Nonce and delivery report; False if no outbox row has that uuid."""
    if not remember_nonce(connection, nonce):
        raise ReplayedNonce()
    return outbox.apply_status_callback(connection, uuid, status, error_code)


def _apply_status(nonce: str, uuid: str, status: str, error_code: Optional[str]) -> bool:
    """Nonce and delivery report in one transaction; raises WebhookError on a replay."""
    with connection_scope(durable=False) as connection:
        return _apply_status_in(connection, nonce, uuid, status, error_code)


def _counts() -> Dict[str, Any]:
    with session_scope() as session:
        rows = session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()
        waiting = session.execute(
            select(func.count()).where(Message.direction == "in", Message.status == RECEIVED)
        ).scalar_one()
    return {"outbox": {status: count for status, count in rows}, "inbound_waiting": waiting}


def plivo_settings(settings: Settings) -> Settings:
    """The business number in E.164 and the public URL without a trailing slash."""
    return dataclasses.replace(
        settings,
        plivo_number=to_e164(settings.plivo_number, settings.default_country_code) or "",
        bot_public_url=settings.bot_public_url.rstrip("/"),
    )


class PlivoFrontDoor:
    """The webhook routes; nothing here processes a text."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._writer: Optional[InboundWriter] = None  # SQLite: made on the first text

    def _sqlite_writer(self) -> Optional[InboundWriter]:
        """The SQLite group-commit writer; None on other databases."""
        if self._writer is None:
            engine = get_engine()
            if engine.dialect.name != "sqlite":
                return None
            self._writer = InboundWriter(engine)
        return self._writer

    def stop(self) -> None:
        """Record the texts still queued for the SQLite writer (at server stop)."""
        if self._writer is not None:
            self._writer.stop()

    def url(self, route: str) -> str:
        """The public URL Plivo calls (signatures cover it)."""
        return f"{self.settings.bot_public_url}{WEBHOOK_PREFIX}/{route}"

    def _verify(self, request: Request, route: str) -> Dict[str, List[str]]:
        form = parse_form(request.body or b"")
        headers = request.headers  # case-insensitive
        if not signature_is_valid(self.url(route), form, headers, self.settings.plivo_auth_token):
            raise WebhookError(403, "missing or invalid X-Plivo-Signature-V3")
        return form

    def add_routes(self, blueprint: Blueprint) -> None:
        """Register the routes and the start/stop listeners (prefix: /webhooks/plivo)."""

        # Sanic marks handlers with attributes, which bound methods cannot take.
        @blueprint.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return await self.health(request)

        @blueprint.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return await self.receive(request)

        @blueprint.route("/status", methods=["POST"])
        async def delivery_report(request: Request) -> HTTPResponse:
            return await self.delivery_report(request)

    async def health(self, _request: Request) -> HTTPResponse:
        try:
            health: Dict[str, Any] = {"status": "ok", **await run_sync(_counts)}
        except Exception:  # noqa: BLE001
            logger.exception("health check: database unavailable")
            return response.json({"status": "degraded", "database": "down"}, status=503)
        return response.json(health)

    async def receive(self, request: Request) -> HTTPResponse:
        try:
            form = self._verify(request, "webhook")
            sms = inbound_from_form(
                form, self.settings.plivo_number, self.settings.default_country_code
            )
            nonce = request.headers.get("X-Plivo-Signature-V3-Nonce", "")
            writer = self._sqlite_writer()
            if writer is not None:
                message_id = await writer.record(sms, nonce)
            else:
                message_id = await run_sync_in(
                    _ACK_POOL, retry_if_disconnected, _record, sms, nonce
                )
        except WebhookError as error:
            logger.warning(
                "plivo webhook refused (%d): %s from %s", error.status, error.reason, request.ip
            )
            return response.json({"error": error.reason}, status=error.status)
        except Exception:  # noqa: BLE001 - e.g. database down: Plivo will retry
            logger.exception("plivo webhook could not be recorded")
            return response.json({"error": "temporarily unavailable"}, status=503)
        if message_id is None:
            logger.info("duplicate MessageUUID %s ignored", sms.uuid)
            return _answer(b'{"status":"duplicate"}')
        return _answer(b'{"status":"received"}')

    async def delivery_report(self, request: Request) -> HTTPResponse:
        try:
            form = self._verify(request, "status")
            uuid = first(form, "MessageUUID") or ""
            status = first(form, "Status") or ""
            if not uuid or not status:
                raise WebhookError(400, "missing MessageUUID or Status")
            nonce = request.headers.get("X-Plivo-Signature-V3-Nonce", "")
            code = first(form, "ErrorCode")
            known = await run_sync(retry_if_disconnected, _apply_status, nonce, uuid, status, code)
        except WebhookError as error:
            logger.warning("plivo status callback refused (%d): %s", error.status, error.reason)
            return response.json({"error": error.reason}, status=error.status)
        except Exception:  # noqa: BLE001
            logger.exception("plivo status callback could not be recorded")
            return response.json({"error": "temporarily unavailable"}, status=503)
        if not known:  # common: Plivo's "queued" can arrive before its API answer
            logger.debug("status %s for unknown message %s", status, uuid)
            return _answer(b'{"status":"unknown message"}')
        return _answer(b'{"status":"ok"}')


def _answer(body: bytes) -> HTTPResponse:
    """A 200 with a fixed JSON body (the hot routes' answers, not re-encoded each time)."""
    return HTTPResponse(body, content_type="application/json")
