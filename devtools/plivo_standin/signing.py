"""Plivo V3 webhook signatures, computed with the plivo SDK's own functions."""

from __future__ import annotations

import secrets
import string

from plivo.utils.signature_v3 import construct_get_url, construct_post_url, get_signature_v3

SIGNATURE_HEADER = "X-Plivo-Signature-V3"
NONCE_HEADER = "X-Plivo-Signature-V3-Nonce"


def new_nonce() -> str:
    """A random numeric nonce like the ones Plivo sends (20 digits)."""
    return "".join(secrets.choice(string.digits) for _ in range(20))


def sign_request(
    url: str,
    params: dict[str, str],
    auth_token: str,
    nonce: str | None = None,
    method: str = "POST",
) -> dict[str, str]:
    """Headers signing a webhook call of ``url`` with ``params`` (form for POST, query for GET)."""
    nonce = nonce or new_nonce()
    if method.upper() == "GET":
        base_url = construct_get_url(url, dict(params)).decode("utf-8")
    else:
        base_url = construct_post_url(url, dict(params)).decode("utf-8")
    # Decoded to str as validate_v3_signature does: non-ASCII text must sign as UTF-8.
    signature = get_signature_v3(auth_token.encode("utf-8"), base_url, nonce.encode("utf-8"))
    return {SIGNATURE_HEADER: signature.decode("ascii"), NONCE_HEADER: nonce}
