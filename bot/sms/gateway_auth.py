"""Signing the SMS gateway's calls to the Rasa server (HMAC-SHA256 over time + body).

The key is derived from the Plivo auth token both processes already hold, with a label
of its own, so no extra secret has to be configured and a Plivo signature can never pass
as a gateway one (or the other way round).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Dict, Mapping, Optional

SIGNATURE_HEADER = "X-Sms-Gateway-Signature"
TIMESTAMP_HEADER = "X-Sms-Gateway-Timestamp"
MAX_SKEW_SECONDS = 300


def _key(auth_token: str) -> bytes:
    return hmac.new(auth_token.encode(), b"sms-gateway-to-rasa/v1", hashlib.sha256).digest()


def _mac(auth_token: str, timestamp: str, body: bytes) -> str:
    return hmac.new(_key(auth_token), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def sign(body: bytes, auth_token: str, now: Optional[float] = None) -> Dict[str, str]:
    """Headers to send with `body`."""
    timestamp = str(int(now if now is not None else time.time()))
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: _mac(auth_token, timestamp, body)}


def is_valid(
    body: bytes, headers: Mapping[str, str], auth_token: str, now: Optional[float] = None
) -> bool:
    """Constant-time check of a signed call; stale timestamps fail."""
    lower = {k.lower(): v for k, v in headers.items()}
    timestamp = lower.get(TIMESTAMP_HEADER.lower(), "")
    signature = lower.get(SIGNATURE_HEADER.lower(), "")
    if not auth_token or not timestamp.isdigit() or not signature:
        return False
    current = now if now is not None else time.time()
    if abs(current - int(timestamp)) > MAX_SKEW_SECONDS:
        return False
    return hmac.compare_digest(_mac(auth_token, timestamp, body), signature)
