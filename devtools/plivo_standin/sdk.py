"""Point the unmodified plivo SDK at the stand-in (or any API base)."""

from __future__ import annotations

import plivo
import plivo.rest.client

_SUFFIX = "/v1/Account"


def point_sdk_at(api_url: str) -> str:
    """Make every plivo client in this process use ``api_url``; returns the previous base.

    ``api_url`` is either the server root ("http://127.0.0.1:8008") or the account base
    ("http://127.0.0.1:8008/v1/Account"). The SDK resets ``client.base_uri`` to the module
    constant ``plivo.rest.client.PLIVO_API_BASE_URI`` on every request, so that constant is
    what must change (it is process-wide). Restore with ``point_sdk_at(previous)``.
    """
    base = api_url.rstrip("/")
    if not base.endswith(_SUFFIX):
        base += _SUFFIX
    previous = plivo.rest.client.PLIVO_API_BASE_URI
    plivo.rest.client.PLIVO_API_BASE_URI = base
    return previous


def make_client(
    auth_id: str, auth_token: str, api_url: str, timeout: float = 5
) -> plivo.RestClient:
    """A real ``plivo.RestClient`` talking to ``api_url`` (see point_sdk_at); close it after use."""
    point_sdk_at(api_url)
    return plivo.RestClient(auth_id, auth_token, timeout=timeout)
