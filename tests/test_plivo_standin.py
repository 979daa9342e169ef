"""The Plivo stand-in, driven by the real (unmodified) plivo SDK and real HTTP receivers."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from typing import AsyncIterator, Callable, Iterator
from urllib.parse import parse_qs

import aiohttp
import plivo
import plivo.rest.client
import pytest
import requests
from aiohttp import web
from plivo import exceptions as plivo_errors
from plivo.utils.signature_v3 import validate_v3_signature

from devtools.plivo_standin import __main__ as standin_main
from devtools.plivo_standin.runner import StandIn
from devtools.plivo_standin.sdk import make_client, point_sdk_at
from devtools.plivo_standin.signing import NONCE_HEADER, SIGNATURE_HEADER, sign_request

AUTH_ID = "MADEVSTANDIN00000001"  # the SDK wants MA/SA + 18 characters
AUTH_TOKEN = "test-token-not-a-secret"
NUMBER = "+15005550100"
ALEX = "+15005550001"
SAM = "+15005550002"
FAST = (0.01, 0.01)


# --- helpers ---------------------------------------------------------------------------------


def wait_until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``check`` until it is true (sync tests)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


async def wait_until_async(check: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``check`` until it is true (async tests)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def recorded(standin: StandIn, **params: str) -> dict:
    """GET /_standin/messages."""
    response = requests.get(standin.url + "/_standin/messages", params=params, timeout=5)
    response.raise_for_status()
    return response.json()


def inject(standin: StandIn, body: dict) -> None:
    """POST /_standin/fail."""
    requests.post(standin.url + "/_standin/fail", json=body, timeout=5).raise_for_status()


def send(client: plivo.RestClient, dst: str = ALEX, text: str = "Hello", **kwargs: str) -> str:
    """Send one SMS through the SDK; returns its uuid."""
    response = client.messages.create(src=NUMBER, dst=dst, text=text, **kwargs)
    assert response.message == "message(s) queued"
    assert len(response.message_uuid) == 1
    return response.message_uuid[0]


def free_port() -> int:
    """A loopback port nothing listens on (for unreachable URLs)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Call:
    """One HTTP request a receiver got."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, list[str]]:
        """The form body parsed as a Plivo webhook handler must (blank values kept)."""
        return parse_qs(self.body.decode("utf-8"), keep_blank_values=True)

    def single(self) -> dict[str, str]:
        """The form with one value per field."""
        return {key: values[0] for key, values in self.form().items()}


@dataclass
class Receiver:
    """A tiny aiohttp server standing in for the bot's webhook / callback endpoint."""

    url: str = ""
    status: int = 200
    calls: list[Call] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        """Record the request and answer with ``status``."""
        body = await request.read()
        self.calls.append(
            Call(request.method, request.path, request.query_string, dict(request.headers), body)
        )
        return web.Response(status=self.status, text="ok")


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def restore_sdk_base() -> Iterator[None]:
    """Every test may repoint the SDK: put the process-wide base URI back afterwards."""
    original = plivo.rest.client.PLIVO_API_BASE_URI
    yield
    plivo.rest.client.PLIVO_API_BASE_URI = original


@pytest.fixture
def standin() -> Iterator[StandIn]:
    with StandIn(AUTH_ID, AUTH_TOKEN, NUMBER, None, status_delays=FAST) as server:
        yield server


@pytest.fixture
def client(standin: StandIn) -> Iterator[plivo.RestClient]:
    with make_client(AUTH_ID, AUTH_TOKEN, standin.url) as sdk_client:
        yield sdk_client


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    result = Receiver()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", result.handle)
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    result.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield result
    finally:
        await runner.cleanup()


@pytest.fixture
async def bot_standin(receiver: Receiver) -> AsyncIterator[StandIn]:
    """A stand-in whose bot webhook is the receiver."""
    server = StandIn(
        AUTH_ID, AUTH_TOKEN, NUMBER, receiver.url + "/webhooks/plivo/webhook", status_delays=FAST
    )
    await asyncio.to_thread(server.start)
    try:
        yield server
    finally:
        await asyncio.to_thread(server.stop)


# --- the SDK against the Message API ---------------------------------------------------------


def test_create_get_and_list_with_the_real_sdk(standin: StandIn, client: plivo.RestClient) -> None:
    before = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)).strftime(
        "%Y-%m-%d %H:%M:%S"
    )
    first = send(client, ALEX, "Your order A1001 has shipped.")
    second = send(client, SAM, "Hi Sam")

    wait_until(lambda: client.messages.get(first).message_state == "delivered")
    message = client.messages.get(first)
    assert message.message_uuid == first
    assert message.from_number == "15005550100"  # Plivo shows numbers without '+'
    assert message.to_number == "15005550001"
    assert message.message_direction == "outbound"
    assert message.message_type == "sms"
    assert message.units == 1
    assert message.error_code == "000"
    assert message.resource_uri == f"/v1/Account/{AUTH_ID}/Message/{first}/"
    dt.datetime.strptime(message.message_time, "%Y-%m-%d %H:%M:%S%z")

    listed = client.messages.list()
    assert [m.message_uuid for m in listed] == [second, first]  # newest first
    assert listed.meta["total_count"] == 2

    to_alex = client.messages.list(
        message_direction="outbound",
        from_number="15005550100",
        to_number="15005550001",
        message_time__gte=before,
    )
    assert [m.message_uuid for m in to_alex] == [first]
    assert len(client.messages.list(message_time__lt=before)) == 0
    wait_until(lambda: client.messages.get(second).message_state == "delivered")
    assert len(client.messages.list(message_state="delivered")) == 2
    assert len(client.messages.list(message_state="queued")) == 0
    assert len(client.messages.list(message_direction="inbound")) == 0


def test_list_paging(standin: StandIn, client: plivo.RestClient) -> None:
    uuids = [send(client, ALEX, f"message {i}") for i in range(3)]
    page = client.messages.list(limit=2)
    assert [m.message_uuid for m in page] == uuids[:0:-1]
    assert page.meta["next"] is not None and page.meta["previous"] is None
    rest = client.messages.list(limit=2, offset=2)
    assert [m.message_uuid for m in rest] == uuids[:1]
    assert rest.meta["next"] is None and rest.meta["previous"] is not None
    too_many = requests.get(
        f"{standin.api_url}/{AUTH_ID}/Message/",
        params={"limit": 50},
        auth=(AUTH_ID, AUTH_TOKEN),
        timeout=5,
    )
    assert too_many.status_code == 400
    assert set(too_many.json()) == {"api_id", "error", "objects"}


def test_unknown_message_is_404(client: plivo.RestClient) -> None:
    with pytest.raises(plivo_errors.ResourceNotFoundError, match="not found"):
        client.messages.get("00000000-0000-0000-0000-000000000000")


def test_wrong_credentials_are_refused(standin: StandIn) -> None:
    with make_client(AUTH_ID, "wrong-token", standin.url) as bad_token:
        with pytest.raises(plivo_errors.AuthenticationError):
            send(bad_token)
        with pytest.raises(plivo_errors.AuthenticationError):
            bad_token.messages.list()
    with make_client("MAOTHERACCOUNT000001", AUTH_TOKEN, standin.url) as other_account:
        with pytest.raises(plivo_errors.AuthenticationError):
            send(other_account)
    state = recorded(standin)
    assert state["count"] == 0
    assert state["rejected"] == 2


def test_invalid_requests_are_400(standin: StandIn, client: plivo.RestClient) -> None:
    with pytest.raises(plivo_errors.ValidationError, match="not a number on this account"):
        client.messages.create(src="+15005550199", dst=ALEX, text="hi")
    with pytest.raises(plivo_errors.ValidationError, match="dst"):
        client.messages.create(src=NUMBER, dst="12ab", text="hi")
    with pytest.raises(plivo_errors.ValidationError, match="text"):
        client.messages.create(src=NUMBER, dst=ALEX, text="")
    with pytest.raises(plivo_errors.ValidationError, match="1600"):
        client.messages.create(src=NUMBER, dst=ALEX, text="x" * 1601)
    assert recorded(standin)["count"] == 0


def test_long_and_unicode_texts_count_segments(client: plivo.RestClient) -> None:
    long_uuid = send(client, ALEX, "a" * 161)
    emoji_uuid = send(client, ALEX, "Thanks 🙂")
    assert client.messages.get(long_uuid).units == 2
    assert client.messages.get(emoji_uuid).units == 1
    assert client.messages.get(long_uuid).total_amount == "0.01000"


def test_injected_503_fails_then_recovers(standin: StandIn, client: plivo.RestClient) -> None:
    inject(standin, {"status": 503, "count": 2})
    for _ in range(2):
        with pytest.raises(plivo_errors.PlivoRestError, match="503"):
            send(client)
    uuid = send(client)
    state = recorded(standin)
    assert [m["message_uuid"] for m in state["messages"]] == [uuid]
    assert state["refused"] == 2
    assert state["create_calls"] == 3


def test_injected_429_for_a_while(standin: StandIn, client: plivo.RestClient) -> None:
    inject(standin, {"status": 429, "seconds": 0.3})
    with pytest.raises(plivo_errors.PlivoRestError, match="429"):
        send(client)
    time.sleep(0.35)
    send(client)
    assert recorded(standin)["refused"] == 1


def test_injected_500_is_a_server_error(standin: StandIn, client: plivo.RestClient) -> None:
    inject(standin, {"status": 500})
    with pytest.raises(plivo_errors.PlivoServerError):
        send(client)
    send(client)  # count defaults to 1


def test_slow_answer_times_out_but_the_message_was_accepted(standin: StandIn) -> None:
    inject(standin, {"delay": 1.0})
    with make_client(AUTH_ID, AUTH_TOKEN, standin.url, timeout=0.2) as impatient:
        with pytest.raises(requests.exceptions.ReadTimeout):
            send(impatient, ALEX, "Did this go out?")
    requests.delete(standin.url + "/_standin/fail", timeout=5).raise_for_status()
    state = recorded(standin, to=ALEX)
    assert [m["text"] for m in state["messages"]] == ["Did this go out?"]
    # The connector's "check before resending" sees it through the SDK.
    with make_client(AUTH_ID, AUTH_TOKEN, standin.url) as client:
        found = client.messages.list(message_direction="outbound", to_number=ALEX.lstrip("+"))
        assert [m.message_uuid for m in found] == [state["messages"][0]["message_uuid"]]


def test_fail_control_rejects_bad_bodies(standin: StandIn) -> None:
    for body in (
        {},
        {"status": 200},
        {"status": 503, "count": -1},
        {"nope": 1},
        {"undeliverable": "abc"},
        {"status": 503, "count": 1, "seconds": 1},
    ):
        response = requests.post(standin.url + "/_standin/fail", json=body, timeout=5)
        assert response.status_code == 400, body


def test_recorded_messages_since_and_reset(standin: StandIn, client: plivo.RestClient) -> None:
    send(client, ALEX, "one")
    send(client, SAM, "two")
    all_messages = recorded(standin)["messages"]
    assert [m["text"] for m in all_messages] == ["one", "two"]
    assert all_messages[0]["seq"] < all_messages[1]["seq"]
    assert all_messages[0]["to"] == ALEX
    assert [
        m["text"] for m in recorded(standin, since=str(all_messages[0]["seq"]))["messages"]
    ] == ["two"]
    # A raw '+' in a query string decodes to a space: still the same number.
    raw = requests.get(f"{standin.url}/_standin/messages?to=+15005550002", timeout=5).json()
    assert [m["text"] for m in raw["messages"]] == ["two"]
    requests.post(standin.url + "/_standin/reset", timeout=5).raise_for_status()
    state = recorded(standin)
    assert state["messages"] == [] and state["create_calls"] == 0


# --- status callbacks ------------------------------------------------------------------------


def _assert_signed(call: Call, url: str) -> None:
    assert validate_v3_signature(
        "POST",
        url,
        call.headers[NONCE_HEADER],
        AUTH_TOKEN,
        call.headers[SIGNATURE_HEADER],
        call.form(),
    )


async def test_status_callbacks_are_signed_form_posts(standin: StandIn, receiver: Receiver) -> None:
    callback_url = receiver.url + "/webhooks/plivo/status"

    def create() -> str:
        with make_client(AUTH_ID, AUTH_TOKEN, standin.url) as client:
            return send(client, ALEX, "Your booking is confirmed", url=callback_url)

    uuid = await asyncio.to_thread(create)
    await wait_until_async(lambda: len(receiver.calls) == 3)
    forms = [call.single() for call in receiver.calls]
    assert [f["Status"] for f in forms] == ["queued", "sent", "delivered"]
    for call, form in zip(receiver.calls, forms, strict=True):
        assert call.method == "POST" and call.path == "/webhooks/plivo/status"
        assert call.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
        assert set(form) == {
            "Status",
            "MessageUUID",
            "From",
            "To",
            "Units",
            "TotalRate",
            "TotalAmount",
            "ErrorCode",
        }
        assert form["MessageUUID"] == uuid
        assert (form["From"], form["To"]) == ("15005550100", "15005550001")
        assert (form["Units"], form["TotalRate"], form["TotalAmount"]) == (
            "1",
            "0.00500",
            "0.00500",
        )
        assert form["ErrorCode"] == ""
        _assert_signed(call, callback_url)
    # A signature for other parameters, or from another token, does not validate.
    tampered = dict(receiver.calls[-1].form(), Status=["failed"])
    assert not validate_v3_signature(
        "POST",
        callback_url,
        receiver.calls[-1].headers[NONCE_HEADER],
        AUTH_TOKEN,
        receiver.calls[-1].headers[SIGNATURE_HEADER],
        tampered,
    )


@pytest.mark.parametrize(
    ("final_state", "statuses"),
    [("undelivered", ["queued", "sent", "undelivered"]), ("failed", ["queued", "failed"])],
)
async def test_undeliverable_destination(
    standin: StandIn, receiver: Receiver, final_state: str, statuses: list[str]
) -> None:
    callback_url = receiver.url + "/status"
    await asyncio.to_thread(
        inject, standin, {"undeliverable": SAM, "error_code": "200", "state": final_state}
    )

    def create() -> str:
        with make_client(AUTH_ID, AUTH_TOKEN, standin.url) as client:
            return send(client, SAM, "Hi", url=callback_url)

    uuid = await asyncio.to_thread(create)
    await wait_until_async(lambda: len(receiver.calls) == len(statuses))
    forms = [call.single() for call in receiver.calls]
    assert [f["Status"] for f in forms] == statuses
    assert forms[-1]["ErrorCode"] == "200"
    for call in receiver.calls:
        _assert_signed(call, callback_url)

    def fetch() -> plivo.base.ResponseObject:
        with make_client(AUTH_ID, AUTH_TOKEN, standin.url) as client:
            return client.messages.get(uuid)

    message = await asyncio.to_thread(fetch)
    assert (message.message_state, message.error_code) == (final_state, "200")


async def test_status_callbacks_by_get(standin: StandIn, receiver: Receiver) -> None:
    callback_url = receiver.url + "/status?account=1"

    def create() -> str:
        with make_client(AUTH_ID, AUTH_TOKEN, standin.url) as client:
            return send(client, ALEX, "hi", url=callback_url, method="GET")

    uuid = await asyncio.to_thread(create)
    await wait_until_async(lambda: len(receiver.calls) == 3)
    for call in receiver.calls:
        assert call.method == "GET" and call.body == b""
        query = parse_qs(call.query, keep_blank_values=True)
        assert query["MessageUUID"] == [uuid] and query["account"] == ["1"]
        full_url = f"{receiver.url}{call.path}?{call.query}"
        assert validate_v3_signature(
            "GET",
            full_url,
            call.headers[NONCE_HEADER],
            AUTH_TOKEN,
            call.headers[SIGNATURE_HEADER],
            {},
        )


def test_several_destinations_in_one_request(standin: StandIn, client: plivo.RestClient) -> None:
    response = client.messages.create(src=NUMBER, dst=f"{ALEX}<{SAM}", text="Store closes early")
    assert len(response.message_uuid) == 2
    assert [m["to"] for m in recorded(standin)["messages"]] == [ALEX, SAM]


def test_callback_failures_do_not_break_the_server(
    standin: StandIn, client: plivo.RestClient
) -> None:
    dead_url = f"http://127.0.0.1:{free_port()}/status"
    uuid = send(client, ALEX, "Nobody listens", url=dead_url)
    wait_until(lambda: client.messages.get(uuid).message_state == "delivered")
    send(client, ALEX, "Still working")


# --- inbound webhook -------------------------------------------------------------------------


async def _post(url: str, payload: dict) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json=payload) as response:
            return response.status, await response.json()


async def _get(url: str) -> dict:
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as response:
            assert response.status == 200
            return await response.json()


async def test_inbound_is_a_signed_plivo_form(bot_standin: StandIn, receiver: Receiver) -> None:
    webhook = receiver.url + "/webhooks/plivo/webhook"
    status, body = await _post(
        bot_standin.url + "/_standin/inbound",
        {"from": ALEX, "text": "Where is my order?", "message_uuid": "uuid-1"},
    )
    assert (status, body) == (200, {"status": 200, "message_uuid": "uuid-1"})
    assert len(receiver.calls) == 1
    call = receiver.calls[0]
    assert call.method == "POST" and call.path == "/webhooks/plivo/webhook"
    params = call.form()
    assert params["MessageIntent"] == [""]  # blank, but present and signed
    assert call.single() == {
        "From": "15005550001",
        "To": "15005550100",
        "Text": "Where is my order?",
        "Type": "sms",
        "MessageUUID": "uuid-1",
        "MessageIntent": "",
        "Units": "1",
        "TotalRate": "0.00000",
        "TotalAmount": "0.00000",
    }
    assert validate_v3_signature(
        "POST",
        webhook,
        call.headers[NONCE_HEADER],
        AUTH_TOKEN,
        call.headers[SIGNATURE_HEADER],
        params,
    )
    # Dropping the blank field (what Sanic's request.form does) breaks the signature.
    without_blank = {k: v for k, v in params.items() if k != "MessageIntent"}
    assert not validate_v3_signature(
        "POST",
        webhook,
        call.headers[NONCE_HEADER],
        AUTH_TOKEN,
        call.headers[SIGNATURE_HEADER],
        without_blank,
    )


async def test_inbound_mms_intent_and_retry(bot_standin: StandIn, receiver: Receiver) -> None:
    payload = {
        "from": SAM,
        "text": "STOP",
        "intent": "optout",
        "media": ["https://example.com/a.jpg", "https://example.com/b.png"],
    }
    status, body = await _post(bot_standin.url + "/_standin/inbound", payload)
    assert status == 200
    form = receiver.calls[0].single()
    assert (form["Type"], form["MessageIntent"]) == ("mms", "optout")
    assert (form["Media0"], form["Media1"]) == tuple(payload["media"])
    assert len(form["MessageUUID"]) == 36
    # Re-posting the same MessageUUID simulates Plivo's retry: delivered again, logged once.
    await _post(
        bot_standin.url + "/_standin/inbound", {**payload, "message_uuid": body["message_uuid"]}
    )
    assert receiver.calls[1].single()["MessageUUID"] == body["message_uuid"]
    conversation = await _get(bot_standin.url + "/_standin/conversation?phone=%2B15005550002")
    assert len(conversation["messages"]) == 1


async def test_inbound_pictures_are_stored_and_served(
    bot_standin: StandIn, receiver: Receiver
) -> None:
    picture = b"\x89PNG\r\n\x1a\n not really a png, but bytes the stand-in keeps"
    attachment = {"content_type": "image/png", "data": base64.b64encode(picture).decode()}
    payload = {"from": ALEX, "text": "this one", "attachments": [attachment]}
    status, body = await _post(bot_standin.url + "/_standin/inbound", payload)
    assert status == 200
    form = receiver.calls[0].single()
    assert form["Type"] == "mms"
    url = form["Media0"]
    prefix = f"{bot_standin.url}/Account/{AUTH_ID}/Message/{body['message_uuid']}/Media/"
    assert url.startswith(prefix) and "Media1" not in form
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == "image/png"
            assert await response.read() == picture
        other = url.replace(body["message_uuid"], "someone-elses-message")
        async with session.get(other) as response:
            assert response.status == 404
    # Plivo's retry carries the same picture URL; the record shows it too
    await _post(
        bot_standin.url + "/_standin/inbound", {**payload, "message_uuid": body["message_uuid"]}
    )
    assert receiver.calls[1].single()["Media0"] == url
    conversation = await _get(bot_standin.url + "/_standin/conversation?phone=%2B15005550001")
    assert [m["media"] for m in conversation["messages"]] == [[url]]
    for bad in (
        [{"content_type": "text/html", "data": attachment["data"]}],
        [{"content_type": "image/png", "data": "not base64!"}],
        [{"content_type": "image/png", "data": ""}],
        {"content_type": "image/png"},
    ):
        code, error = await _post(
            bot_standin.url + "/_standin/inbound", {"from": ALEX, "attachments": bad}
        )
        assert code == 400 and "attachment" in error["error"]
    async with aiohttp.ClientSession() as session:
        async with session.post(bot_standin.url + "/_standin/reset") as response:
            assert response.status == 200
        async with session.get(url) as response:
            assert response.status == 404


async def test_inbound_reports_bot_errors(bot_standin: StandIn, receiver: Receiver) -> None:
    receiver.status = 500
    status, body = await _post(bot_standin.url + "/_standin/inbound", {"from": ALEX, "text": "hi"})
    assert (status, body["status"]) == (200, 500)
    bad, error = await _post(bot_standin.url + "/_standin/inbound", {"from": "nope", "text": "x"})
    assert bad == 400 and "from" in error["error"]


async def test_inbound_without_a_reachable_bot() -> None:
    dead = StandIn(AUTH_ID, AUTH_TOKEN, NUMBER, f"http://127.0.0.1:{free_port()}/hook")
    unset = StandIn(AUTH_ID, AUTH_TOKEN, NUMBER, None)
    for server, expected in ((dead, 502), (unset, 503)):
        await asyncio.to_thread(server.start)
        try:
            status, body = await _post(
                server.url + "/_standin/inbound", {"from": ALEX, "text": "x"}
            )
            assert status == expected and body["status"] is None and body["error"]
        finally:
            await asyncio.to_thread(server.stop)


async def test_inbound_repeats_once_when_the_bot_drops_the_connection() -> None:
    """A keep-alive connection the bot closed fails on first use; the stand-in repeats the
    webhook once on a new connection (as Plivo repeats a failed one), same MessageUUID."""
    requests: list[bytes] = []

    async def bot(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
        requests.append(await reader.readexactly(length))
        if len(requests) > 1:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            await writer.drain()
        writer.close()  # the first: dropped without an answer

    server = await asyncio.start_server(bot, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    standin = StandIn(AUTH_ID, AUTH_TOKEN, NUMBER, f"http://127.0.0.1:{port}/webhooks/plivo/")
    await asyncio.to_thread(standin.start)
    try:
        status, body = await _post(standin.url + "/_standin/inbound", {"from": ALEX, "text": "hi"})
        assert (status, body["status"]) == (200, 200), body
        assert len(requests) == 2 and requests[0] == requests[1]
        assert f"MessageUUID={body['message_uuid']}".encode() in requests[0]
    finally:
        await asyncio.to_thread(standin.stop)
        server.close()
        await server.wait_closed()


async def test_conversation_interleaves_both_directions(
    bot_standin: StandIn, receiver: Receiver
) -> None:
    await _post(bot_standin.url + "/_standin/inbound", {"from": ALEX, "text": "hi"})

    def reply() -> str:
        with make_client(AUTH_ID, AUTH_TOKEN, bot_standin.url) as client:
            return send(client, ALEX, "Hello Alex! How can I help?")

    await asyncio.to_thread(reply)
    await _post(bot_standin.url + "/_standin/inbound", {"from": SAM, "text": "not Alex"})
    url = bot_standin.url + "/_standin/conversation?phone=+15005550001"  # raw '+' on purpose
    conversation = (await _get(url))["messages"]
    assert [(m["direction"], m["text"]) for m in conversation] == [
        ("inbound", "hi"),
        ("outbound", "Hello Alex! How can I help?"),
    ]
    assert conversation[0]["bot_status"] == 200
    assert all({"time", "state", "seq"} <= set(m) for m in conversation)


# --- simulator, signing, SDK helpers, CLI ----------------------------------------------------


def test_simulator_page_and_customers(standin: StandIn) -> None:
    page = requests.get(standin.url + "/", timeout=5)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "textContent" in page.text
    assert not re.search(r"\.(inner|outer)HTML|insertAdjacentHTML|document\.write", page.text)
    assert "/_standin/conversation" in page.text and "/_standin/inbound" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # no external assets
    people = requests.get(standin.url + "/_standin/customers", timeout=5).json()
    assert {(c["phone"], c["name"]) for c in people["customers"]} == {
        ("+15005550001", "Alex Rivera"),
        ("+15005550002", "Sam Lee"),
        ("+15005550003", "Priya Patel"),
        ("+15005550004", "Jordan Kim"),
    }
    assert people["business_number"] == NUMBER


# A stub DOM (no browser here): runs the page's script, fails if it ever assigns innerHTML.
SIMULATOR_HARNESS = r"""
const html = require("fs").readFileSync(process.argv[2], "utf8");
const script = html.match(/<script>([\s\S]*?)<\/script>/)[1];
class El {
  constructor(tag) {
    Object.assign(this, { tag, children: [], text: "", className: "", dataset: {},
      listeners: {}, value: "", disabled: false, scrollTop: 0, scrollHeight: 0,
      clientHeight: 0, classList: { toggle() {} } });
  }
  get textContent() { return this.text + this.children.map((c) => c.textContent).join(""); }
  set textContent(v) { this.text = String(v); this.children = []; }
  set innerHTML(v) { throw new Error("innerHTML used"); }
  set outerHTML(v) { throw new Error("outerHTML used"); }
  appendChild(c) { this.children.push(c); return c; }
  replaceChildren(...c) { this.children = c; this.text = ""; }
  addEventListener(type, f) { this.listeners[type] = f; }
  focus() {}
  click() {}
}
const ids = {};
global.document = {
  getElementById: (id) => ids[id] || (ids[id] = new El("div")),
  createElement: (tag) => new El(tag),
  querySelectorAll: () => [],
  querySelector: () => null,
};
const EVIL = "<img src=x onerror=alert(1)>";
const fetched = [], posted = [];
const reply = (body) => ({ ok: true, status: 200, json: async () => body });
global.fetch = async (url, options) => {
  fetched.push(url);
  if (url.startsWith("/_standin/customers")) {
    return reply({ customers: [{ phone: "+15005550001", name: "<i>Alex</i>" }],
                   business_number: "+15005550100", bot_webhook_url: null });
  }
  if (url.startsWith("/_standin/conversation")) {
    return reply({ messages: [
      { seq: 1, direction: "inbound", text: EVIL, time: "2026-01-01T00:00:00+00:00",
        state: "received", units: 1, error_code: "", media: ["javascript:alert(1)"],
        intent: "", bot_status: 200 },
      { seq: 2, direction: "outbound", text: "<b>Hi</b>", time: "2026-01-01T00:00:01+00:00",
        state: "delivered", units: 2, error_code: "000", media: [], bot_status: null },
    ] });
  }
  posted.push(JSON.parse(options.body));
  return reply({ status: 200, message_uuid: "u" });
};
global.setInterval = () => 0;
const tick = () => new Promise((resolve) => setTimeout(resolve, 10));
(async () => {
  eval(script);
  await tick();
  const button = ids.customers.children[0];
  button.listeners.click();
  await tick();
  ids.text.value = "Where is my order?";
  await ids.composer.listeners.submit({ preventDefault() {} });
  await tick();
  const rows = ids.messages.children;
  console.log(JSON.stringify({
    button: button.textContent,
    rows: rows.map((r) => [r.className, r.children[0].textContent, r.children[1].textContent]),
    fetched, posted, error: ids.error.textContent,
  }));
})().catch((e) => { console.error(e); process.exit(1); });
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the page's script")
def test_simulator_script_renders_text_safely(tmp_path) -> None:
    from devtools.plivo_standin.simulator import PAGE

    harness = tmp_path / "harness.js"
    harness.write_text(SIMULATOR_HARNESS, encoding="utf-8")
    result = subprocess.run(
        ["node", str(harness), str(PAGE)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["button"] == "<i>Alex</i>+15005550001"
    assert out["rows"][0][0] == "row me"
    assert out["rows"][0][1] == "<img src=x onerror=alert(1)>\U0001f4ce javascript:alert(1)"
    assert out["rows"][1][:2] == ["row them", "<b>Hi</b>"]
    assert "delivered" in out["rows"][1][2] and "2 segments" in out["rows"][1][2]
    assert "/_standin/conversation?phone=%2B15005550001" in out["fetched"]
    assert out["posted"] == [{"from": "+15005550001", "text": "Where is my order?"}]
    assert out["error"] == ""


def test_sign_request_matches_the_sdk_validator() -> None:
    url = "https://bot.example.com/webhooks/plivo/webhook"
    params = {"Text": "Café ☕ & more", "MessageIntent": "", "From": "15005550001"}
    headers = sign_request(url, params, AUTH_TOKEN, nonce="12345")
    assert headers[NONCE_HEADER] == "12345"
    assert validate_v3_signature(
        "POST", url, "12345", AUTH_TOKEN, headers[SIGNATURE_HEADER], params
    )
    assert not validate_v3_signature(
        "POST", url, "12345", "other-token", headers[SIGNATURE_HEADER], params
    )
    assert (
        sign_request(url, params, AUTH_TOKEN)[NONCE_HEADER]
        != sign_request(url, params, AUTH_TOKEN)[NONCE_HEADER]
    )
    get_headers = sign_request(url, params, AUTH_TOKEN, nonce="9", method="GET")
    assert validate_v3_signature(
        "GET", url, "9", AUTH_TOKEN, get_headers[SIGNATURE_HEADER], dict(params)
    )


def test_point_sdk_at_accepts_root_or_account_base() -> None:
    original = plivo.rest.client.PLIVO_API_BASE_URI
    assert point_sdk_at("http://127.0.0.1:8008") == original
    assert plivo.rest.client.PLIVO_API_BASE_URI == "http://127.0.0.1:8008/v1/Account"
    assert point_sdk_at("http://127.0.0.1:9/v1/Account/") == "http://127.0.0.1:8008/v1/Account"
    assert plivo.rest.client.PLIVO_API_BASE_URI == "http://127.0.0.1:9/v1/Account"


def test_cli_config_from_environment() -> None:
    with pytest.raises(SystemExit, match="PLIVO_AUTH_ID, PLIVO_AUTH_TOKEN"):
        standin_main._config({"PLIVO_NUMBER": NUMBER})
    with pytest.raises(SystemExit, match="MA or SA"):
        standin_main._config(
            {"PLIVO_AUTH_ID": "bad", "PLIVO_AUTH_TOKEN": "t", "PLIVO_NUMBER": NUMBER}
        )
    env = {
        "PLIVO_AUTH_ID": AUTH_ID,
        "PLIVO_AUTH_TOKEN": AUTH_TOKEN,
        "PLIVO_NUMBER": NUMBER,
        "BOT_PUBLIC_URL": "https://bot.example.com/",
    }
    assert standin_main._config(env) == (
        AUTH_ID,
        AUTH_TOKEN,
        NUMBER,
        "https://bot.example.com/webhooks/plivo/webhook",
    )


def test_runner_picks_a_free_port_and_stops_cleanly() -> None:
    server = StandIn(AUTH_ID, AUTH_TOKEN, NUMBER, None)
    with server:
        assert requests.get(server.url + "/_standin/messages", timeout=5).status_code == 200
        port = server.port
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/_standin/messages", timeout=2)
    server.stop()  # idempotent
