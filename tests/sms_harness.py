"""A running SMS setup for tests and benchmarks: Plivo stand-in + Rasa + action server."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid as uuidlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

from bot.launcher import IN_MEMORY_LOCKS, RasaStack, free_port, start_stack
from bot.settings import PROJECT_ROOT
from devtools.plivo_standin.runner import StandIn
from devtools.plivo_standin.signing import sign_request

AUTH_ID = "MATESTSTANDIN0000000"
AUTH_TOKEN = "test-auth-token-not-a-secret"
BUSINESS = "+15005550100"


def http_json(method: str, url: str, body: Optional[dict] = None, timeout: float = 10) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data, {"Content-Type": "application/json"}, method=method)
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


def post_form(url: str, body: bytes, headers: Dict[str, str], timeout: float = 10) -> tuple:
    """(status, json body) of a raw form POST; never raises on HTTP errors."""
    request = urllib.request.Request(
        url,
        body,
        {"Content-Type": "application/x-www-form-urlencoded", **headers},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            return error.code, json.loads(raw or b"{}")
        except ValueError:
            return error.code, {"raw": raw.decode("utf-8", "replace")}


@dataclass
class SmsSetup:
    """Plivo talks to the SMS receiver; `workers` worker processes ask the Rasa server(s)
    (the topology of `make run`, which has one worker and one Rasa server)."""

    database_url: str
    model: Path
    log_dir: Path
    extra_env: Dict[str, str] = field(default_factory=dict)
    lock_store: str = IN_MEMORY_LOCKS
    workers: int = 1
    rasa_servers: int = 1
    worker_concurrency: Optional[int] = None
    process_env: Dict[str, Dict[str, str]] = field(default_factory=dict)
    extra_rasa_args: List[str] = field(default_factory=list)
    assistant: bool = True  # False: no Rasa or action server (the SMS side only)
    rasa_port: int = field(default_factory=free_port)
    receiver_port: int = field(default_factory=free_port)
    standin: Optional[StandIn] = None
    stack: Optional[RasaStack] = None

    @property
    def bot_url(self) -> str:
        """The Rasa server."""
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def front_url(self) -> str:
        """Where Plivo's webhooks go (BOT_PUBLIC_URL): the receiver."""
        return f"http://127.0.0.1:{self.receiver_port}"

    @property
    def webhook_url(self) -> str:
        return f"{self.front_url}/webhooks/plivo/webhook"

    def env(self) -> Dict[str, str]:
        assert self.standin is not None
        return {
            "DATABASE_URL": self.database_url,
            "PLIVO_AUTH_ID": AUTH_ID,
            "PLIVO_AUTH_TOKEN": AUTH_TOKEN,
            "PLIVO_NUMBER": BUSINESS,
            "PLIVO_API_URL": self.standin.url,
            "BOT_PUBLIC_URL": self.front_url,
            "SMS_RATE_PER_SECOND": "200",
            "OUTBOX_RETRY_BASE_SECONDS": "0.3",
            "OUTBOX_RETRY_CAP_SECONDS": "1.5",
            "PLIVO_TIMEOUT_SECONDS": "2",
            "INBOUND_CLAIM_LEASE_SECONDS": "3",
            **self.extra_env,
        }

    def start(self) -> "SmsSetup":
        if self.standin is None:
            self.standin = StandIn(
                AUTH_ID, AUTH_TOKEN, BUSINESS, self.webhook_url, status_delays=(0.02, 0.02)
            ).start()
        self.start_bot()
        return self

    def start_bot(self) -> None:
        self.stack = start_stack(
            self.model,
            env=self.env(),
            rasa_port=self.rasa_port,
            log_dir=self.log_dir,
            credentials=PROJECT_ROOT / "credentials.yml",
            lock_store=self.lock_store,
            receiver_port=self.receiver_port,
            workers=self.workers,
            worker_concurrency=self.worker_concurrency,
            rasa_servers=self.rasa_servers,
            process_env=self.process_env,
            extra_rasa_args=self.extra_rasa_args,
            assistant=self.assistant,
        )
        # the channel's routes answer once the server is up
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                http_json("GET", f"{self.front_url}/webhooks/plivo/")
                return
            except OSError:
                time.sleep(0.2)
        raise TimeoutError("plivo channel health route not up")

    def kill_bot(self, process: str = "rasa") -> None:
        """SIGKILL one process ("rasa", "receiver", "worker-1" ...; no clean shutdown),
        stop the rest."""
        assert self.stack is not None
        self.stack.kill(process)
        self.stack.stop()
        self.stack = None

    def stop(self) -> None:
        if self.stack is not None:
            self.stack.stop()
        if self.standin is not None:
            self.standin.stop()

    # --- customer side ----------------------------------------------------------------

    def text(self, phone: str, text: str, **extra: Any) -> dict:
        """A customer texts the bot through the stand-in (signed webhook)."""
        assert self.standin is not None
        return http_json(
            "POST", f"{self.standin.url}/_standin/inbound", {"from": phone, "text": text, **extra}
        )

    def sent(self, to: Optional[str] = None) -> List[dict]:
        assert self.standin is not None
        query = f"?to={urllib.request.quote(to)}" if to else ""
        return http_json("GET", f"{self.standin.url}/_standin/messages{query}")["messages"]

    def wait_replies(self, phone: str, count: int, timeout: float = 30) -> List[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            texts = [m["text"] for m in self.sent(phone)]
            if len(texts) >= count:
                return texts
            time.sleep(0.1)
        raise AssertionError(f"{phone}: expected {count} replies, got {self.sent(phone)}")

    def ask(self, phone: str, text: str, timeout: float = 30, **extra: Any) -> str:
        """Text the bot and wait for the one new reply."""
        before = len(self.sent(phone))
        self.text(phone, text, **extra)
        return self.wait_replies(phone, before + 1, timeout)[before]

    def fail(self, **body: Any) -> dict:
        assert self.standin is not None
        return http_json("POST", f"{self.standin.url}/_standin/fail", body)

    def signed_webhook(
        self,
        params: Dict[str, str],
        nonce: Optional[str] = None,
        token: str = AUTH_TOKEN,
        url: Optional[str] = None,
    ) -> tuple:
        """Post a webhook signed like Plivo (or with the wrong token/url to forge one)."""
        from urllib.parse import urlencode

        headers = sign_request(url or self.webhook_url, params, token, nonce)
        return post_form(self.webhook_url, urlencode(params).encode(), headers)


def inbound_params(phone: str, text: str, uuid: Optional[str] = None, **extra: str) -> dict:
    return {
        "From": phone.lstrip("+"),
        "To": BUSINESS.lstrip("+"),
        "Text": text,
        "Type": "sms",
        "MessageUUID": uuid or str(uuidlib.uuid4()),
        "MessageIntent": "",
        "Units": "1",
        "TotalRate": "0.00000",
        "TotalAmount": "0.00000",
        **extra,
    }


@contextmanager
def running_sms_setup(work: Path, model: Path) -> Iterator[SmsSetup]:
    """A fresh migrated + seeded SQLite database under `work`, and everything running."""
    from bot.store.db import session_scope
    from bot.store.migrate import upgrade
    from bot.store.seed import seed

    url = f"sqlite:///{work / 'bot.db'}"
    upgrade(url)
    with session_scope(url) as session:
        seed(session)
    setup = SmsSetup(url, model, work).start()
    try:
        yield setup
    finally:
        setup.stop()
