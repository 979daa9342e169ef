"""Calling the notification API in tests: JSON over HTTP with a bearer token."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any, Dict, Optional, Tuple

TOKEN = "test-notify-token-0123456789"
OTHER_TOKEN = "other-notify-token-9876543210"


def api(
    base: str,
    method: str,
    path: str,
    body: Any = None,
    token: Optional[str] = TOKEN,
    raw: Optional[bytes] = None,
    headers: Optional[Dict[str, str]] = None,
) -> Tuple[int, Any]:
    """(status, parsed JSON answer)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    sent = {"Content-Type": "application/json", **(headers or {})}
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(base + path, data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as problem:
        return problem.code, json.loads(problem.read() or b"{}")
