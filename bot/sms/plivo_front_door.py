"""Plivo's side of the SMS path: signed webhooks in, the outbox out.

POST webhook   inbound texts (V3-signed), recorded, acknowledged at once, processed in
               the background (per phone in order, phones in parallel); on SQLite they
               are recorded in the receiver's own inbox file (bot/sms/inbox.py)
POST status    delivery reports for the outbox
GET  /         health (outbox counts; on SQLite also the inbox texts not yet copied)

Hosted either by the Rasa server itself (`channels.plivo`, the default), with the back
office (bot/sms/back_office.py) in the same process, or by the SMS gateway
(`python -m bot.sms.gateway`), which hands recorded texts to its dispatcher process; see
docs/architecture.md.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, List, Optional

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from bot.settings import Settings, inbox_database_url
from bot.sms import outbox
from bot.sms.back_office import SmsBackOffice
from bot.sms.group_commit import GroupCommit
from bot.sms.inbound import record_inbound, record_inbound_in_one_statement
from bot.sms.inbox import ensure_inbox, prune_copied, record_text, uncopied_count
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
from bot.store.db import connection_scope, get_engine, run_sync, run_sync_in, session_scope
from bot.store.models import OutboxMessage
from bot.text.phone import to_e164

logger = logging.getLogger(__name__)

WEBHOOK_PREFIX = "/webhooks/plivo"
PRUNE_SECONDS = 5.0  # how often the receiver forgets inbox texts already copied (SQLite)
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
    """Nonce and message; None for a MessageUUID recorded before (Plivo's retry)."""
    if not remember_nonce(connection, nonce):
        raise ReplayedNonce()
    return record_inbound(
        connection, sms.phone, sms.text, sms.uuid, sms.kind, sms.media, sms.intent
    )


def _record(sms: InboundSms, nonce: str) -> Optional[int]:
    """Nonce and message in one (durable: Plivo gets its 200 after it) transaction;
    raises WebhookError on a replay."""
    if get_engine().dialect.name == "postgresql":
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


def _outbox_counts() -> Dict[str, int]:
    with session_scope() as session:
        rows = session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()
    return {status: count for status, count in rows}


def plivo_settings(settings: Settings) -> Settings:
    """The business number in E.164 and the public URL without a trailing slash."""
    return dataclasses.replace(
        settings,
        plivo_number=to_e164(settings.plivo_number) or "",
        bot_public_url=settings.bot_public_url.rstrip("/"),
    )


@dataclasses.dataclass(frozen=True)
class _SqliteWriters:
    inbox: GroupCommit  # inbound texts, durably, into the receiver's own file
    reports: GroupCommit  # delivery reports, into bot.db


class PlivoFrontDoor:
    """The webhook routes. `on_recorded(ref, phone)` hands each new text on (ref: its
    message id, or on SQLite its inbox id); `back_office` (if given) starts and stops with
    the server."""

    def __init__(
        self,
        settings: Settings,
        on_recorded: Callable[[int, str], None],
        back_office: Optional[SmsBackOffice] = None,
    ) -> None:
        self.settings = settings
        self.on_recorded = on_recorded
        self.back_office = back_office
        self._writers: Optional[_SqliteWriters] = None
        self._writers_decided = False
        self._deciding = asyncio.Lock()
        self._pruning: Optional[asyncio.Task] = None

    async def sqlite_writers(self) -> Optional[_SqliteWriters]:
        """Decided on first use: on an SQLite file, the receiver's inbox and group commits;
        None on PostgreSQL, which commits concurrent transactions together by itself."""
        if self._writers_decided:
            return self._writers
        async with self._deciding:
            if not self._writers_decided:
                url = inbox_database_url()
                if url is not None:
                    await run_sync(ensure_inbox, url)
                    inbox, reports = GroupCommit(url), GroupCommit()
                    self._writers = _SqliteWriters(inbox=inbox, reports=reports)
                self._writers_decided = True
        return self._writers

    async def start(self) -> None:
        if self.back_office is not None:
            await self.back_office.start()
        writers = await self.sqlite_writers()
        if writers is not None:
            self._pruning = asyncio.create_task(self._prune_inbox(writers))

    async def stop(self) -> None:
        if self._pruning is not None:
            self._pruning.cancel()
            await asyncio.gather(self._pruning, return_exceptions=True)
        if self.back_office is not None:
            await self.back_office.stop()

    @staticmethod
    async def _prune_inbox(writers: _SqliteWriters) -> None:
        """Every few seconds, forget inbox texts the dispatcher has copied (and old nonces):
        in the receiver's own writer, so nothing else ever writes the inbox file."""
        while True:
            await asyncio.sleep(PRUNE_SECONDS)
            try:
                await writers.inbox.write(prune_copied, durable=False)
            except Exception:  # noqa: BLE001 - retried next time
                logger.exception("could not prune the inbox")

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
        @blueprint.listener("after_server_start")
        async def start(_app: Any, _loop: Any) -> None:
            await self.start()

        @blueprint.listener("before_server_stop")
        async def stop(_app: Any, _loop: Any) -> None:
            await self.stop()

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
            health: Dict[str, Any] = {"status": "ok", "outbox": await run_sync(_outbox_counts)}
            inbox_url = inbox_database_url()
            if inbox_url is not None:  # texts recorded but not yet copied into `messages`
                health["inbox_uncopied"] = await run_sync(uncopied_count, inbox_url)
        except Exception:  # noqa: BLE001
            logger.exception("health check: database unavailable")
            return response.json({"status": "degraded", "database": "down"}, status=503)
        return response.json(health)

    async def receive(self, request: Request) -> HTTPResponse:
        try:
            form = self._verify(request, "webhook")
            sms = inbound_from_form(form, self.settings.plivo_number)
            nonce = request.headers.get("X-Plivo-Signature-V3-Nonce", "")
            writers = await self.sqlite_writers()
            if writers is None:
                message_id = await run_sync_in(_ACK_POOL, _record, sms, nonce)
            else:
                message_id = await writers.inbox.write(lambda c: record_text(c, sms, nonce))
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
        self.on_recorded(message_id, sms.phone)
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
            writers = await self.sqlite_writers()
            if writers is None:
                known = await run_sync(_apply_status, nonce, uuid, status, code)
            else:
                known = await writers.reports.write(
                    lambda c: _apply_status_in(c, nonce, uuid, status, code), durable=False
                )
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
