"""Signing a worker's calls to a Rasa server (HMAC-SHA256 over time, nonce and body).

The key is derived from the Plivo auth token both processes already hold, with a label
of its own, so no extra secret has to be configured and a Plivo signature can never pass
as a worker one (or the other way round). The nonce makes every call unique: a Rasa
server records it (channels/plivo.py, in the database every Rasa server shares), so a
call replayed within the timestamp window is refused by any of them.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Dict, Mapping, Optional

SIGNATURE_HEADER = "X-Sms-Gateway-Signature"
TIMESTAMP_HEADER = "X-Sms-Gateway-Timestamp"
NONCE_HEADER = "X-Sms-Gateway-Nonce"
MAX_SKEW_SECONDS = 300
MAX_NONCE_LENGTH = 64


def _key(auth_token: str) -> bytes:
    return hmac.new(auth_token.encode(), b"sms-gateway-to-rasa/v2", hashlib.sha256).digest()


def _mac(auth_token: str, timestamp: str, nonce: str, body: bytes) -> str:
    message = timestamp.encode() + b"." + nonce.encode() + b"." + body
    return hmac.new(_key(auth_token), message, hashlib.sha256).hexdigest()


def sign(
    body: bytes, auth_token: str, now: Optional[float] = None, nonce: Optional[str] = None
) -> Dict[str, str]:
    """Headers to send with `body` (a fresh random nonce unless one is given)."""
    timestamp = str(int(now if now is not None else time.time()))
    nonce = nonce or secrets.token_hex(16)
    return {
        TIMESTAMP_HEADER: timestamp,
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: _mac(auth_token, timestamp, nonce, body),
    }


def nonce_of(headers: Mapping[str, str]) -> str:
    """The call's nonce ("" if missing)."""
    lower = {k.lower(): v for k, v in headers.items()}
    return lower.get(NONCE_HEADER.lower(), "")


def is_valid(
    body: bytes, headers: Mapping[str, str], auth_token: str, now: Optional[float] = None
) -> bool:
    """Constant-time check of a signed call; stale timestamps and missing nonces fail.
    (Whether the nonce was seen before is the caller's check.)"""
    lower = {k.lower(): v for k, v in headers.items()}
    timestamp = lower.get(TIMESTAMP_HEADER.lower(), "")
    signature = lower.get(SIGNATURE_HEADER.lower(), "")
    nonce = lower.get(NONCE_HEADER.lower(), "")
    if not auth_token or not timestamp.isdigit() or not signature:
        return False
    if not nonce or len(nonce) > MAX_NONCE_LENGTH:
        return False
    current = now if now is not None else time.time()
    if abs(current - int(timestamp)) > MAX_SKEW_SECONDS:
        return False
    return hmac.compare_digest(_mac(auth_token, timestamp, nonce, body), signature)
