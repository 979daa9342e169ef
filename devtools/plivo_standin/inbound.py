"""The inbound SMS webhook Plivo posts to the bot: request parsing and the form fields."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from devtools.plivo_standin.media import Attachment, parse_attachments
from devtools.plivo_standin.phones import digits, is_plausible
from devtools.plivo_standin.send_params import MAX_TEXT

INTENTS = ("", "optout", "optin", "help")


@dataclass(frozen=True)
class InboundRequest:
    """A validated ``POST /_standin/inbound`` body."""

    sender: str
    text: str
    type: str = "sms"
    media: list[str] = field(default_factory=list)
    message_uuid: str = ""
    intent: str = ""
    attachments: list[Attachment] = field(default_factory=list)


def parse_inbound_request(body: Any) -> InboundRequest:
    """Validate the simulator's/tests' inbound request; ValueError if malformed.

    ``media`` lists picture URLs hosted elsewhere; ``attachments`` carries pictures the
    stand-in stores and serves itself (their URLs are added to ``media`` when received)."""
    if not isinstance(body, dict):
        raise ValueError("expected a JSON object")
    sender = body.get("from")
    if not isinstance(sender, str) or not is_plausible(sender):
        raise ValueError("from must be a phone number like +15005550001")
    text = body.get("text", "")
    media = body.get("media") or []
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        raise ValueError(f"text must be a string of at most {MAX_TEXT} characters")
    if not isinstance(media, list) or not all(isinstance(u, str) and u for u in media):
        raise ValueError("media must be a list of URLs")
    attachments = parse_attachments(body.get("attachments"))
    if not text and not media and not attachments:
        raise ValueError("text (or media) is required")
    pictures = bool(media or attachments)
    type_ = body.get("type") or ("mms" if pictures else "sms")
    if type_ not in ("sms", "mms") or (pictures and type_ != "mms"):
        raise ValueError("type must be sms, or mms when media is given")
    message_uuid = body.get("message_uuid") or str(uuid.uuid4())
    if not isinstance(message_uuid, str):
        raise ValueError("message_uuid must be a string")
    intent = body.get("intent") or ""
    if intent not in INTENTS:
        raise ValueError(f"intent must be one of {INTENTS}")
    return InboundRequest(sender, text, type_, list(media), message_uuid, intent, attachments)


def inbound_form(request: InboundRequest, business_number: str, units: int) -> dict[str, str]:
    """The form Plivo posts for an inbound message (numbers without '+', blank intent kept)."""
    form = {
        "From": digits(request.sender),
        "To": digits(business_number),
        "Text": request.text,
        "Type": request.type,
        "MessageUUID": request.message_uuid,
        "MessageIntent": request.intent,
        "Units": str(units),
        "TotalRate": "0.00000",
        "TotalAmount": "0.00000",
    }
    for index, url in enumerate(request.media):
        form[f"Media{index}"] = url
    return form
