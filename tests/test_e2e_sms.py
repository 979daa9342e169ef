"""End to end over SMS: signed webhooks -> Rasa -> outbox -> the real plivo SDK -> stand-in."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator

import pytest

from bot.store.db import session_scope
from bot.store.seed import ALEX, SAM
from tests.sms_harness import SmsSetup, inbound_params, running_sms_setup

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sms(tmp_path_factory: pytest.TempPathFactory, trained_model: Path) -> Iterator[SmsSetup]:
    with running_sms_setup(tmp_path_factory.mktemp("sms"), trained_model) as setup:
        yield setup


def fresh_phone() -> str:
    return f"+1555{time.time_ns() % 10_000_000:07d}"


def test_signed_text_gets_exactly_one_reply(sms: SmsSetup) -> None:
    reply = sms.ask(ALEX, "wheres my ordr A1001")
    assert "A1001 has shipped with UPS" in reply and "1Z999AA10123456784" in reply
    time.sleep(1)
    assert len(sms.sent(ALEX)) == 1


def test_other_customers_order_is_not_found_over_sms(sms: SmsSetup) -> None:
    reply = sms.ask(SAM, "status of A1001?")
    assert "couldn't find order A1001" in reply and "UPS" not in reply


def test_duplicate_message_uuid_is_answered_once(sms: SmsSetup) -> None:
    phone = fresh_phone()
    params = inbound_params(phone, "hi")
    first = sms.signed_webhook(params)
    second = sms.signed_webhook(params)  # Plivo's retry: same MessageUUID, new nonce
    assert first == (200, {"status": "received"})
    assert second == (200, {"status": "duplicate"})
    sms.wait_replies(phone, 1)
    time.sleep(1.5)
    assert len(sms.sent(phone)) == 1


def test_forged_unsigned_and_replayed_webhooks_are_refused(sms: SmsSetup) -> None:
    phone = fresh_phone()
    forged = sms.signed_webhook(inbound_params(phone, "hi"), token="wrong-token")
    assert forged[0] == 403
    from tests.sms_harness import post_form

    unsigned = post_form(sms.webhook_url, b"From=1555&To=15005550100&Text=hi&MessageUUID=x", {})
    assert unsigned[0] == 403
    wrong_url = sms.signed_webhook(
        inbound_params(phone, "hi"), url="http://evil.example/webhooks/plivo/webhook"
    )
    assert wrong_url[0] == 403
    params = inbound_params(phone, "hi")
    assert sms.signed_webhook(params, nonce="fixed-nonce-1")[0] == 200
    replayed = sms.signed_webhook({**params, "MessageUUID": "another"}, nonce="fixed-nonce-1")
    assert replayed[0] == 403  # tampered params: signature no longer matches
    replayed_same = sms.signed_webhook(params, nonce="fixed-nonce-1")
    assert replayed_same == (403, {"error": "replayed signature nonce"})
    sms.wait_replies(phone, 1)
    time.sleep(1)
    assert len(sms.sent(phone)) == 1


def test_bad_input_gets_clear_errors_or_polite_replies(sms: SmsSetup) -> None:
    phone = fresh_phone()
    missing = sms.signed_webhook({"From": phone.lstrip("+"), "Text": "hi"})
    assert missing[0] == 400 and "To" in missing[1]["error"]
    unknown_to = sms.signed_webhook(inbound_params(phone, "hi", To="15551112222"))
    assert unknown_to == (400, {"error": "unknown To number"})
    assert sms.signed_webhook(inbound_params(phone, ""))[0] == 200
    assert "empty" in sms.wait_replies(phone, 1)[0]
    huge = inbound_params(phone, "where is my order " + "x" * 10_000)
    assert sms.signed_webhook(huge)[0] == 200
    assert sms.wait_replies(phone, 2)[1]  # answered, politely, without crashing
    too_big = inbound_params(phone, "x" * 70_000)
    assert sms.signed_webhook(too_big)[0] == 413
    assert sms.ask(phone, "hi").startswith("Hi!")


def test_stop_start_help(sms: SmsSetup) -> None:
    phone = fresh_phone()
    assert sms.ask(phone, "hello").startswith("Hi!")
    assert "unsubscribed" in sms.ask(phone, "STOP")
    before = len(sms.sent(phone))
    sms.text(phone, "where is my order A1001")
    sms.text(phone, "hello??")
    time.sleep(2)
    assert len(sms.sent(phone)) == before  # nothing after the one confirmation
    help_text = sms.ask(phone, "help")
    assert "STOP" in help_text and "AGENT" in help_text
    assert "resubscribed" in sms.ask(phone, "START")
    assert sms.ask(phone, "hi").startswith("Hi!")
    assert "unsubscribed" in sms.ask(phone, "whatever", intent="optout")


def test_numbered_choice_confirms_a_room_request(sms: SmsSetup) -> None:
    phone = fresh_phone()
    sms.ask(phone, "book a room dec 20-22 for 2 ppl, king, no special requests")
    question = sms.ask(phone, "no")
    assert "1) Yes  2) No" in question
    assert "not a guaranteed booking" in sms.ask(phone, "1")


def test_mms_gets_a_polite_reply_and_media_is_kept(sms: SmsSetup) -> None:
    phone = fresh_phone()
    sms.text(phone, "", type="mms", media=["https://media.example/1.jpg"])
    [reply] = sms.wait_replies(phone, 1)
    assert "picture" in reply
    from sqlalchemy import select

    from bot.store.models import Message

    with session_scope(sms.database_url) as session:
        media = session.execute(select(Message.media).where(Message.kind == "mms")).scalars().all()
    assert any("https://media.example/1.jpg" in (m or "") for m in media)


def test_outage_drains_without_loss_or_duplicates(sms: SmsSetup) -> None:
    phones = [fresh_phone() for _ in range(5)]
    sms.fail(status=503, seconds=3)
    for phone in phones:
        sms.text(phone, "hi")
    time.sleep(1)
    assert all(not sms.sent(p) for p in phones)  # nothing got through yet
    for phone in phones:
        assert sms.wait_replies(phone, 1, timeout=30)[0].startswith("Hi!")
    time.sleep(1.5)
    assert all(len(sms.sent(p)) == 1 for p in phones)


def test_rate_limited_then_sent_once(sms: SmsSetup) -> None:
    phone = fresh_phone()
    sms.fail(status=429, count=2)
    assert sms.ask(phone, "hi").startswith("Hi!")
    time.sleep(1)
    assert len(sms.sent(phone)) == 1


def test_accepted_but_timed_out_is_not_sent_twice(sms: SmsSetup) -> None:
    phone = fresh_phone()
    sms.fail(delay=3, count=1)  # Plivo records the message, then answers after our timeout
    sms.text(phone, "hi")
    reply = sms.wait_replies(phone, 1, timeout=30)
    assert reply[0].startswith("Hi!")
    time.sleep(4)
    assert len(sms.sent(phone)) == 1
    from sqlalchemy import select

    from bot.store.models import OutboxMessage

    with session_scope(sms.database_url) as session:
        row = session.execute(
            select(OutboxMessage).where(OutboxMessage.phone == phone)
        ).scalar_one()
        assert row.provider_uuid == sms.sent(phone)[0]["message_uuid"]
        assert row.status in ("sent", "delivered")


def test_delivery_reports_update_the_outbox(sms: SmsSetup) -> None:
    phone = fresh_phone()
    sms.ask(phone, "hi")
    from sqlalchemy import select

    from bot.store.models import OutboxMessage

    deadline = time.monotonic() + 10
    status = None
    while time.monotonic() < deadline:
        with session_scope(sms.database_url) as session:
            status = session.execute(
                select(OutboxMessage.status).where(OutboxMessage.phone == phone)
            ).scalar_one()
        if status == "delivered":
            break
        time.sleep(0.1)
    assert status == "delivered"


def test_concurrent_delivery_reports_each_get_their_own_answer(sms: SmsSetup) -> None:
    """Reports arriving together: a replay, an unknown uuid or a fresh report each get
    their own answer, and every accepted one is stored."""
    from concurrent.futures import ThreadPoolExecutor
    from urllib.parse import urlencode

    from sqlalchemy import func, select

    from bot.store.models import DeliveryReport
    from devtools.plivo_standin.signing import sign_request
    from tests.sms_harness import AUTH_TOKEN, post_form

    phone = fresh_phone()
    sms.ask(phone, "hi")
    uuid = sms.sent(phone)[0]["message_uuid"]
    url = f"{sms.front_url}/webhooks/plivo/status"
    batch = f"batch-{time.time_ns()}"

    def report(n: int, message_uuid: str, nonce: str) -> tuple:
        params = {"MessageUUID": message_uuid, "Status": "delivered", "ErrorCode": "", "N": str(n)}
        headers = sign_request(url, params, AUTH_TOKEN, nonce)
        return post_form(url, urlencode(params).encode(), headers)

    jobs = [(n, uuid, f"{batch}-{n}") for n in range(24)]
    jobs += [(100 + n, f"{batch}-unknown-{n}", f"{batch}-u{n}") for n in range(4)]
    jobs += [(200, uuid, f"{batch}-3")]  # the nonce of job 3 again: a replay
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        answers = list(pool.map(lambda job: report(*job), jobs))

    known, unknown, replay = answers[:24], answers[24:28], answers[28]
    refused = [a for a in known + [replay] if a[0] == 403]
    assert refused == [(403, {"error": "replayed signature nonce"})]  # job 3 or its replay
    assert sum(a == (200, {"status": "ok"}) for a in known + [replay]) == 24
    assert unknown == [(200, {"status": "unknown message"})] * 4
    with session_scope(sms.database_url) as session:
        stored = session.execute(
            select(func.count()).where(DeliveryReport.provider_uuid == uuid)
        ).scalar_one()
    assert stored >= 24  # plus the stand-in's own reports for the reply


def test_long_replies_are_trimmed_and_more_sends_the_rest(sms: SmsSetup) -> None:
    phone = fresh_phone()
    sms.ask(phone, "hi")
    from bot.sms.outbox import enqueue
    from bot.sms.segments import segment_count

    long_text = "Here is everything about our rooms. " * 12  # ~430 chars: 3 segments
    with session_scope(sms.database_url) as session:
        enqueue(session, phone, long_text, segment_budget=2)
    first = sms.wait_replies(phone, 2)[1]
    assert first.endswith("(reply MORE)") and segment_count(first) <= 2
    rest = sms.ask(phone, "MORE")
    assert (first.replace(" (reply MORE)", "") + " " + rest).split() == long_text.split()


# --- malformed webhooks: property-based, against the running server ----------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

FIELDS = ["From", "To", "Text", "Type", "MessageUUID", "MessageIntent", "Media0", "Units", "X"]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.binary(max_size=2048))
def test_fuzz_raw_bodies_never_crash(sms: SmsSetup, body: bytes) -> None:
    from tests.sms_harness import post_form

    status, _ = post_form(
        sms.webhook_url, body, {"X-Plivo-Signature-V3": "x", "X-Plivo-Signature-V3-Nonce": "y"}
    )
    assert status in (400, 403, 413)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    form=st.dictionaries(
        st.sampled_from(FIELDS),
        st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=300),
        max_size=8,
    )
)
def test_fuzz_signed_forms_get_a_clear_answer(sms: SmsSetup, form: dict) -> None:
    status, body = sms.signed_webhook(form)
    assert status in (200, 400), body
    if status == 400:
        assert body["error"]


def test_server_is_healthy_after_the_fuzzing(sms: SmsSetup) -> None:
    from tests.sms_harness import http_json

    health = http_json("GET", f"{sms.front_url}/webhooks/plivo/")
    assert health["status"] == "ok"
    assert isinstance(health["inbound_waiting"], int)  # texts recorded, not yet claimed
    assert sms.ask(fresh_phone(), "hi").startswith("Hi!")


def test_rasa_process_route_needs_the_worker_signature(sms: SmsSetup) -> None:
    """The Rasa server answers only signed calls, each nonce once, and Plivo's routes are
    not served there at all."""
    import json

    from bot.sms import gateway_auth
    from tests.sms_harness import AUTH_TOKEN, http_json, post_form

    url = f"{sms.bot_url}/webhooks/plivo/process"
    body = json.dumps({"phone": ALEX, "text": "ORDER A1001", "message_id": "probe-1"}).encode()
    json_type = {"Content-Type": "application/json"}
    assert post_form(url, body, json_type)[0] == 403
    forged = gateway_auth.sign(body, "not-the-token")
    assert post_form(url, body, {**json_type, **forged})[0] == 403
    stale = gateway_auth.sign(body, AUTH_TOKEN, now=time.time() - 3600)
    assert post_form(url, body, {**json_type, **stale})[0] == 403
    garbage = b"{not json"
    assert post_form(url, garbage, gateway_auth.sign(garbage, AUTH_TOKEN))[0] == 400
    signed = {**json_type, **gateway_auth.sign(body, AUTH_TOKEN)}
    status, answer = post_form(url, body, signed)
    assert status == 200
    assert "A1001 has shipped" in answer["messages"][0]["text"]
    assert post_form(url, body, signed) == (403, {"error": "replayed nonce"})
    assert http_json("GET", f"{sms.bot_url}/webhooks/plivo/")["status"] == "ok"
    rasa_webhook = f"{sms.bot_url}/webhooks/plivo/webhook"
    assert post_form(rasa_webhook, b"", {})[0] == 404
