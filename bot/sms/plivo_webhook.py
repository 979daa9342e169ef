"""Plivo webhooks: raw-body parsing, V3 signature checks (constant time), replay refusal.

Kept free of Sanic/Rasa so it can be tested and reused on its own.
"""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Union
from urllib.parse import parse_qs

from plivo.utils.signature_v3 import construct_post_url, get_signature_v3
from sqlalchemy import delete, insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.store.models import WebhookNonce, utcnow
from bot.text.phone import DEFAULT_COUNTRY_CODE, to_e164

MAX_BODY_BYTES = 64 * 1024
NONCE_TTL = dt.timedelta(hours=24)
SIGNATURE_HEADERS = ("x-plivo-signature-v3", "x-plivo-signature-ma-v3")
NONCE_HEADER = "x-plivo-signature-v3-nonce"


class WebhookError(Exception):
    """A webhook we refuse, with the HTTP status to answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def parse_form(body: bytes) -> Dict[str, List[str]]:
    """Form fields from the raw body, blank values kept (they are part of the signature)."""
    if len(body) > MAX_BODY_BYTES:
        raise WebhookError(413, "body too large")
    try:
        text = body.decode("utf-8")
        return parse_qs(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except (UnicodeDecodeError, ValueError) as error:
        raise WebhookError(400, f"body is not valid UTF-8 form data: {error}") from error


def expected_signature(
    url: str, params: Dict[str, List[str]], nonce: str, auth_token: str
) -> bytes:
    """Plivo's V3 signature for a POST, computed with the SDK's own code."""
    base = construct_post_url(url, {k: list(v) for k, v in params.items()}).decode("utf-8")
    return get_signature_v3(auth_token.encode("utf-8"), base, nonce.encode("utf-8"))


def signature_is_valid(
    url: str,
    params: Dict[str, List[str]],
    headers: Mapping[str, str],
    auth_token: str,
) -> bool:
    """True if one of the V3 signatures matches (compared in constant time); `headers`
    with lower-case names, or case-insensitive."""
    nonce = headers.get(NONCE_HEADER, "")
    given = ",".join(headers.get(h, "") for h in SIGNATURE_HEADERS if headers.get(h))
    if not nonce or not given or not auth_token:
        return False
    expected = expected_signature(url, params, nonce, auth_token)
    matches = [hmac.compare_digest(expected, s.strip().encode()) for s in given.split(",")]
    return any(matches)


class ReplayedNonce(WebhookError):
    """A signature nonce seen before: refused before anything is written."""

    def __init__(self) -> None:
        super().__init__(403, "replayed signature nonce")


_REMEMBER_NONCE = insert(WebhookNonce)


def remember_nonce(session: Union[Session, Connection], nonce: str) -> bool:
    """Record a nonce; False if it was seen before (a replay).

    Call it first in a transaction: after False the transaction must be rolled back.
    """
    try:
        session.execute(_REMEMBER_NONCE, {"nonce": nonce[:128], "seen_at": utcnow()})
    except IntegrityError:
        return False
    return True


def forget_old_nonces(session: Session) -> int:
    return session.execute(
        delete(WebhookNonce).where(WebhookNonce.seen_at < utcnow() - NONCE_TTL)
    ).rowcount


def first(form: Dict[str, List[str]], key: str) -> Optional[str]:
    values = form.get(key)
    return values[0] if values else None


@dataclass(frozen=True)
class InboundSms:
    phone: str  # E.164 sender
    to: str
    text: str
    kind: str  # sms|mms
    uuid: str
    intent: str  # optout|optin|help|""
    media: List[str] = field(default_factory=list)


def inbound_from_form(
    form: Dict[str, List[str]], business_number: str, country_code: str = DEFAULT_COUNTRY_CODE
) -> InboundSms:
    """Validate an inbound-message form; WebhookError(400) says what is wrong
    (`country_code`: of national numbers, Settings.default_country_code)."""
    missing = [k for k in ("From", "To", "MessageUUID") if not first(form, k)]
    if missing:
        raise WebhookError(400, f"missing fields: {', '.join(missing)}")
    phone = to_e164(first(form, "From"), country_code)
    to = to_e164(first(form, "To"), country_code)
    if phone is None:
        raise WebhookError(400, "From is not a phone number")
    if to is None or to != to_e164(business_number, country_code):
        raise WebhookError(400, "unknown To number")
    uuid = first(form, "MessageUUID") or ""
    if len(uuid) > 64:
        raise WebhookError(400, "MessageUUID too long")
    kind = (first(form, "Type") or "sms").lower()
    media = [
        first(form, key) or ""
        for key in sorted(
            (k for k in form if k.startswith("Media") and k[5:].isdigit()), key=lambda k: int(k[5:])
        )
    ]
    return InboundSms(
        phone=phone,
        to=to,
        text=first(form, "Text") or "",
        kind="mms" if kind == "mms" or media else "sms",
        uuid=uuid,
        intent=(first(form, "MessageIntent") or "").lower(),
        media=[m for m in media if m],
    )
