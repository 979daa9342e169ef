"""Sending through the real `plivo` SDK, with errors sorted into retry / give up.

The SDK is synchronous: callers run these functions in a thread (see outbox_worker).
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from dataclasses import dataclass
from typing import List, Optional

import plivo
import plivo.rest.client
import requests
from plivo import exceptions as plivo_errors

_base_uri_lock = threading.Lock()


class SendError(Exception):
    """A send that did not go through."""

    def __init__(
        self, message: str, retryable: bool, ambiguous: bool = False, code: Optional[str] = None
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.ambiguous = ambiguous  # the request may have reached Plivo
        self.code = code


def use_api_url(api_url: str) -> None:
    """Point the SDK at an API base (Plivo's cloud or the local stand-in).

    The SDK resets `client.base_uri` to this module constant on every request, so the
    constant is the one place to set it (one API base per process).
    """
    with _base_uri_lock:
        plivo.rest.client.PLIVO_API_BASE_URI = api_url.rstrip("/") + "/v1/Account"


def _status_code(error: Exception) -> Optional[int]:
    match = re.search(r"status code (\d{3})", str(error))
    return int(match.group(1)) if match else None


def classify(error: Exception) -> SendError:
    """Turn an SDK/requests exception into a SendError saying whether to retry."""
    if isinstance(
        error, (requests.exceptions.ConnectTimeout, requests.exceptions.ConnectionError)
    ) and not isinstance(error, requests.exceptions.ReadTimeout):
        return SendError(f"connection failed: {error}", retryable=True)
    if isinstance(
        error, (requests.exceptions.ReadTimeout, requests.exceptions.ChunkedEncodingError)
    ):
        return SendError(f"no answer from Plivo: {error}", retryable=True, ambiguous=True)
    if isinstance(error, plivo_errors.PlivoServerError):
        return SendError(f"Plivo server error: {error}", retryable=True, code="500")
    if isinstance(
        error,
        (
            plivo_errors.ValidationError,
            plivo_errors.AuthenticationError,
            plivo_errors.ForbiddenError,
            plivo_errors.ResourceNotFoundError,
            plivo_errors.InvalidRequestError,
        ),
    ):
        return SendError(f"refused by Plivo: {error}", retryable=False)
    if isinstance(error, plivo_errors.PlivoRestError):
        code = _status_code(error)
        retryable = code is None or code == 429 or code >= 500
        return SendError(
            f"Plivo error: {error}", retryable=retryable, code=str(code) if code else None
        )
    return SendError(f"unexpected send error: {error!r}", retryable=True, ambiguous=True)


@dataclass
class PlivoSender:
    auth_id: str
    auth_token: str
    api_url: str
    timeout: float = 8.0

    def __post_init__(self) -> None:
        use_api_url(self.api_url)
        self._local = threading.local()

    def _client(self) -> plivo.RestClient:
        client = getattr(self._local, "client", None)
        if client is None:
            client = plivo.RestClient(self.auth_id, self.auth_token, timeout=self.timeout)
            self._local.client = client
        return client

    def send(self, src: str, dst: str, text: str, callback_url: Optional[str]) -> str:
        """Send one SMS; returns Plivo's message_uuid or raises SendError."""
        try:
            kwargs = {"url": callback_url, "method": "POST"} if callback_url else {}
            response = self._client().messages.create(src=src, dst=dst, text=text, **kwargs)
        except Exception as error:  # noqa: BLE001 - sorted by classify()
            raise classify(error) from error
        uuids = getattr(response, "message_uuid", None) or []
        if not uuids:
            raise SendError(
                f"no message_uuid in Plivo's answer: {response}", retryable=True, ambiguous=True
            )
        return str(uuids[0])

    def accepted_since(self, src: str, dst: str, since: dt.datetime) -> List[str]:
        """uuids of messages Plivo accepted from src to dst since a time (UTC)."""
        try:
            response = self._client().messages.list(
                message_direction="outbound",
                from_number=src.lstrip("+"),
                to_number=dst.lstrip("+"),
                message_time__gte=since.strftime("%Y-%m-%d %H:%M:%S"),
                limit=20,
            )
        except Exception as error:  # noqa: BLE001
            raise classify(error) from error
        objects = getattr(response, "objects", None) or []
        return [
            str(getattr(o, "message_uuid", "")) for o in objects if getattr(o, "message_uuid", None)
        ]
