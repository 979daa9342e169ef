"""Validation of a Message create request, with Plivo-like error texts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from devtools.plivo_standin.phones import digits, is_plausible

MAX_TEXT = 1600
MESSAGE_TYPES = ("sms", "mms")


@dataclass(frozen=True)
class SendRequest:
    """A validated create request: one message per destination."""

    src: str
    destinations: list[str]
    text: str
    type: str = "sms"
    media_urls: list[str] = field(default_factory=list)
    url: str | None = None
    method: str = "POST"


def _string(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string")
    return value


def _callback(body: dict[str, Any]) -> tuple[str | None, str]:
    url = _string(body, "url") or None
    if url is not None and not url.startswith(("http://", "https://")):
        raise ValueError("url must be an http(s) URL")
    method = (_string(body, "method") or "POST").upper()
    if method not in ("POST", "GET"):
        raise ValueError("method must be GET or POST")
    return url, method


def _destinations(body: dict[str, Any], src: str) -> list[str]:
    dst = _string(body, "dst")
    if not dst:
        raise ValueError("dst parameter not present")
    numbers = dst.split("<")
    for number in numbers:
        if not is_plausible(number):
            raise ValueError(f"invalid dst number {number!r}")
        if digits(number) == digits(src):
            raise ValueError("destination number cannot be same as source number")
    return numbers


def _media(body: dict[str, Any], type_: str) -> list[str]:
    media = body.get("media_urls") or []
    if not isinstance(media, list) or not all(isinstance(u, str) for u in media):
        raise ValueError("media_urls must be a list of URLs")
    if media and type_ != "mms":
        raise ValueError("media_urls needs type mms")
    return media


def parse_send_request(body: dict[str, Any], business_number: str) -> SendRequest:
    """Validate a create body (as the SDK posts it); ValueError with Plivo-like text if bad."""
    if not isinstance(body, dict):
        raise ValueError("request body must be a JSON object")
    if body.get("powerpack_uuid"):
        raise ValueError("powerpack_uuid is not supported by the stand-in: use src")
    src = _string(body, "src")
    if not src:
        raise ValueError("src parameter not present")
    if digits(src) != digits(business_number) or not is_plausible(src):
        raise ValueError(f"src {src} is not a number on this account")
    type_ = _string(body, "type") or "sms"
    if type_ not in MESSAGE_TYPES:
        raise ValueError(f"type {type_!r} is not supported (sms or mms)")
    destinations = _destinations(body, src)
    text = _string(body, "text") or ""
    media = _media(body, type_)
    if not text and not media:
        raise ValueError("text parameter not present" if type_ == "sms" else "text or media_urls")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text is longer than {MAX_TEXT} characters")
    url, method = _callback(body)
    return SendRequest(src, destinations, text, type_, media, url, method)
