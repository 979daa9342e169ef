"""Reading JSON request bodies."""

from __future__ import annotations

from typing import Any, Dict

from sanic.exceptions import InvalidUsage
from sanic.request import Request


def payload(request: Request) -> Dict[str, Any]:
    """The JSON object sent (an empty body is {}); anything else is a 400."""
    if not request.body:
        return {}
    try:
        data = request.json
    except InvalidUsage:
        raise InvalidUsage("the body must be a JSON object") from None
    if not isinstance(data, dict):
        raise InvalidUsage("the body must be a JSON object")
    return data


def text_field(data: Dict[str, Any], key: str) -> str:
    """A string field ('' when missing); other types are a 400."""
    value = data.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidUsage(f"{key} must be a string")
    return value
