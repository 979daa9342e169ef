"""Pure SMS pieces: compliance words, numbered choices, webhook parsing and signatures."""

from __future__ import annotations

import pytest
from plivo.utils.signature_v3 import construct_post_url, get_signature_v3, validate_v3_signature

from bot.sms.compliance import HELP, OPT_IN, OPT_OUT, compliance_keyword
from bot.sms.plivo_webhook import (
    WebhookError,
    inbound_from_form,
    parse_form,
    signature_is_valid,
)
from bot.sms.text import join_turn, resolve_choice

TOKEN = "s3cr3t-token"
URL = "https://bot.example.com/webhooks/plivo/webhook"


@pytest.mark.parametrize(
    "text",
    [
        "STOP",
        "stop",
        " Stop. ",
        "STOPALL",
        "unsubscribe",
        "CANCEL",
        "end",
        "Quit",
        "REVOKE",
        "opt out",
        "OPT-OUT",
    ],
)
def test_opt_out_words(text: str) -> None:
    assert compliance_keyword(text) == OPT_OUT


@pytest.mark.parametrize(
    "text", ["stop it please", "cancel my request R1", "the end?", "please don't stop"]
)
def test_opt_out_words_only_as_whole_message(text: str) -> None:
    assert compliance_keyword(text) is None


def test_opt_in_and_help() -> None:
    assert compliance_keyword("START") == OPT_IN
    assert compliance_keyword("unstop") == OPT_IN
    assert compliance_keyword("yes") is None  # an ordinary "yes" while subscribed
    assert compliance_keyword("yes", opted_out=True) == OPT_IN
    assert compliance_keyword("resume", opted_out=True) == OPT_IN
    assert compliance_keyword("HELP") == HELP and compliance_keyword("info") == HELP
    assert compliance_keyword("whatever", "optout") == OPT_OUT
    assert compliance_keyword("", "HELP") == HELP


def test_buttons_become_numbered_choices_and_back() -> None:
    buttons = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
    text, offered = join_turn([{"text": "Add this request?", "buttons": buttons}])
    assert text == "Add this request?\n1) Yes  2) No" and offered == buttons
    assert resolve_choice("1", offered) == "/affirm"
    assert resolve_choice(" #2 ", offered) == "/deny"
    assert resolve_choice("yes!", offered) == "/affirm"
    assert resolve_choice("3", offered) is None
    assert resolve_choice("1 more thing", offered) is None


def test_turn_messages_join_into_one_text() -> None:
    text, buttons = join_turn(
        [{"text": "Check-out has to be after check-in."}, {"text": "And check-out date?"}]
    )
    assert text == "Check-out has to be after check-in.\nAnd check-out date?" and buttons == []


def signed(params: dict, url: str = URL, token: str = TOKEN, nonce: str = "n1") -> dict:
    base = construct_post_url(url, dict(params)).decode()
    signature = get_signature_v3(token.encode(), base, nonce.encode()).decode()
    return {"x-plivo-signature-v3": signature, "x-plivo-signature-v3-nonce": nonce}


FORM = {
    "From": "15005550001",
    "To": "15005550100",
    "Text": "hi",
    "Type": "sms",
    "MessageUUID": "uuid-1",
    "MessageIntent": "",
}


def body(params: dict) -> bytes:
    from urllib.parse import urlencode

    return urlencode(params).encode()


def test_signature_matches_the_sdks_own_validation() -> None:
    form = parse_form(body(FORM))
    headers = signed(FORM)
    assert form["MessageIntent"] == [""]  # blank fields kept: they are signed
    assert signature_is_valid(URL, form, headers, TOKEN)
    assert validate_v3_signature(
        "POST", URL, "n1", TOKEN, headers["x-plivo-signature-v3"], dict(FORM)
    )


@pytest.mark.parametrize(
    "tamper",
    [
        lambda form, headers, url: ({**form, "Text": ["hello"]}, headers, url),
        lambda form, headers, url: (form, {**headers, "x-plivo-signature-v3-nonce": "n2"}, url),
        lambda form, headers, url: (form, {**headers, "x-plivo-signature-v3": "AAAA"}, url),
        lambda form, headers, url: (form, {}, url),
        lambda form, headers, url: (form, headers, url.replace("https", "http")),
        lambda form, headers, url: (
            {k: v for k, v in form.items() if k != "MessageIntent"},
            headers,
            url,
        ),
    ],
)
def test_tampered_or_missing_signatures_fail(tamper) -> None:
    form, headers, url = tamper(parse_form(body(FORM)), signed(FORM), URL)
    assert not signature_is_valid(url, form, headers, TOKEN)


def test_one_of_several_signatures_may_match() -> None:
    headers = signed(FORM)
    headers["x-plivo-signature-v3"] = "bogus," + headers["x-plivo-signature-v3"]
    assert signature_is_valid(URL, parse_form(body(FORM)), headers, TOKEN)


def test_inbound_form_validation() -> None:
    sms = inbound_from_form(parse_form(body(FORM)), "+15005550100")
    assert (sms.phone, sms.to, sms.text, sms.kind, sms.intent) == (
        "+15005550001",
        "+15005550100",
        "hi",
        "sms",
        "",
    )
    mms = inbound_from_form(
        parse_form(body({**FORM, "Type": "mms", "Media0": "https://m/0", "Media1": "https://m/1"})),
        "+15005550100",
    )
    assert mms.kind == "mms" and mms.media == ["https://m/0", "https://m/1"]
    with pytest.raises(WebhookError) as missing:
        inbound_from_form(parse_form(body({"Text": "hi"})), "+15005550100")
    assert missing.value.status == 400 and "From" in missing.value.reason
    with pytest.raises(WebhookError) as wrong_to:
        inbound_from_form(parse_form(body({**FORM, "To": "15550001111"})), "+15005550100")
    assert wrong_to.value.reason == "unknown To number"


def test_bad_bodies_are_refused_clearly() -> None:
    with pytest.raises(WebhookError) as too_big:
        parse_form(b"Text=" + b"a" * 70_000)
    assert too_big.value.status == 413
    with pytest.raises(WebhookError) as bad_utf8:
        parse_form(b"Text=%ff%fe")
    assert bad_utf8.value.status == 400
