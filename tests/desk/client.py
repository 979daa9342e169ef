"""A small HTTP client for the desk API: real HTTP (urllib), cookies kept by hand (the
session cookie is Secure, which cookie jars do not send over http), no redirects followed."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from http.client import HTTPMessage
from typing import Any, Dict, Optional


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


@dataclass
class Response:
    status: int
    headers: HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")


class DeskClient:
    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")
        self.cookies: Dict[str, str] = {}
        self.csrf: str = ""

    # -- raw requests ---------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        body: Optional[bytes] = None,
        headers: Optional[Dict[str, str]] = None,
        timeout: float = 15,
    ) -> Response:
        all_headers = dict(headers or {})
        if self.cookies and "Cookie" not in all_headers:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        req = urllib.request.Request(self.base + path, body, all_headers, method=method)
        try:
            with _opener.open(req, timeout=timeout) as raw:
                response = Response(raw.status, raw.headers, raw.read())
        except urllib.error.HTTPError as error:
            response = Response(error.code, error.headers, error.read())
        self._keep_cookies(response)
        return response

    def _keep_cookies(self, response: Response) -> None:
        for header in response.headers.get_all("Set-Cookie") or []:
            pair, _, attributes = header.partition(";")
            name, _, value = pair.strip().partition("=")
            if not value or "max-age=0" in attributes.lower().replace(" ", ""):
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value

    def get(self, path: str, **headers: str) -> Response:
        return self.request("GET", path, headers=headers)

    def post(
        self,
        path: str,
        data: Optional[dict] = None,
        csrf: Optional[str] = "session",
        headers: Optional[Dict[str, str]] = None,
    ) -> Response:
        """POST JSON; csrf='session' sends the session's token, None sends none, else that."""
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        token = self.csrf if csrf == "session" else csrf
        if token:
            all_headers["X-CSRF-Token"] = token
        return self.request("POST", path, json.dumps(data or {}).encode(), all_headers)

    def post_form(
        self, path: str, fields: Dict[str, str], headers: Optional[Dict[str, str]] = None
    ) -> Response:
        body = urllib.parse.urlencode(fields).encode()
        all_headers = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        return self.request("POST", path, body, all_headers)

    # -- sign-in --------------------------------------------------------------------------

    def login_token(self) -> str:
        page = self.get("/login")
        match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert match, page.text
        return match.group(1)

    def try_login(self, username: str, password: str) -> Response:
        token = self.login_token()
        return self.post_form(
            "/login", {"username": username, "password": password, "csrf_token": token}
        )

    def login(self, username: str, password: str = "password123") -> "DeskClient":
        response = self.try_login(username, password)
        assert response.status == 303, (response.status, response.text)
        me = self.get("/api/me")
        assert me.status == 200, me.text
        self.csrf = me.json()["csrf_token"]
        return self

    def session_cookie(self) -> Optional[str]:
        for name, value in self.cookies.items():
            if name.endswith("desk_session"):
                return value
        return None
