"""Pictures customers send by MMS: kept in memory and served at Plivo-shaped media URLs."""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from typing import Any

from aiohttp import web

# What a handset sends as an MMS picture; Plivo accepts up to 5 MB per message.
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
MAX_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class Attachment:
    """One picture of an inbound MMS before it is stored."""

    content_type: str
    data: bytes


@dataclass(frozen=True)
class StoredMedia:
    """A stored picture and the message it came with."""

    media_id: str
    message_uuid: str
    content_type: str
    data: bytes


def parse_attachments(raw: Any) -> list[Attachment]:
    """[{"content_type": "image/png", "data": base64}, ...]; ValueError if malformed."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValueError("attachments must be a list")
    found = []
    for item in raw:
        if not isinstance(item, dict):
            raise ValueError("each attachment is an object with content_type and data")
        content_type = item.get("content_type")
        if content_type not in IMAGE_TYPES:
            raise ValueError(f"attachment content_type must be one of {IMAGE_TYPES}")
        try:
            data = base64.b64decode(str(item.get("data") or ""), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("attachment data must be base64") from None
        if not data or len(data) > MAX_BYTES:
            raise ValueError(f"an attachment has 1 to {MAX_BYTES} bytes")
        found.append(Attachment(content_type, data))
    return found


class MediaStore:
    """Pictures by media id (forgotten on reset, like the messages)."""

    def __init__(self) -> None:
        """Start empty."""
        self._items: dict[str, StoredMedia] = {}

    def reset(self) -> None:
        """Forget every picture."""
        self._items.clear()

    def add(self, message_uuid: str, attachment: Attachment) -> StoredMedia:
        """Store one picture of a message; returns it with its new id."""
        media = StoredMedia(
            uuid.uuid4().hex, message_uuid, attachment.content_type, attachment.data
        )
        self._items[media.media_id] = media
        return media

    def get(self, message_uuid: str, media_id: str) -> StoredMedia | None:
        """The picture, if it belongs to that message."""
        media = self._items.get(media_id)
        return media if media is not None and media.message_uuid == message_uuid else None


def media_path(auth_id: str, message_uuid: str, media_id: str) -> str:
    """Where a picture is served (the shape of Plivo's media URLs)."""
    return f"/Account/{auth_id}/Message/{message_uuid}/Media/{media_id}"


def serve(store: MediaStore, auth_id: str, request: web.Request) -> web.Response:
    """GET a stored picture, or 404."""
    info = request.match_info
    media = store.get(info["message_uuid"], info["media_id"])
    if info["auth_id"] != auth_id or media is None:
        return web.json_response({"error": "not found"}, status=404)
    return web.Response(
        body=media.data,
        content_type=media.content_type,
        headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )
