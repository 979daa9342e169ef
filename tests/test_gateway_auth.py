"""The gateway -> Rasa signature: only the holder of the auth token can call /process."""

from __future__ import annotations

from bot.sms import gateway_auth

TOKEN = "test-token"
BODY = b'{"phone": "+15005550001", "text": "ORDER A1001", "message_id": "7"}'


def test_signed_body_is_valid() -> None:
    headers = gateway_auth.sign(BODY, TOKEN, now=1_000_000)
    assert gateway_auth.is_valid(BODY, headers, TOKEN, now=1_000_010)


def test_header_names_are_case_insensitive() -> None:
    headers = {k.lower(): v for k, v in gateway_auth.sign(BODY, TOKEN, now=5).items()}
    assert gateway_auth.is_valid(BODY, headers, TOKEN, now=5)


def test_tampered_body_wrong_token_and_missing_headers_fail() -> None:
    headers = gateway_auth.sign(BODY, TOKEN, now=100)
    assert not gateway_auth.is_valid(BODY.replace(b"A1001", b"B2001"), headers, TOKEN, now=100)
    assert not gateway_auth.is_valid(BODY, headers, "other-token", now=100)
    assert not gateway_auth.is_valid(BODY, {}, TOKEN, now=100)
    assert not gateway_auth.is_valid(BODY, headers, "", now=100)
    only_signature = {gateway_auth.SIGNATURE_HEADER: headers[gateway_auth.SIGNATURE_HEADER]}
    assert not gateway_auth.is_valid(BODY, only_signature, TOKEN, now=100)


def test_stale_or_future_timestamps_fail() -> None:
    headers = gateway_auth.sign(BODY, TOKEN, now=10_000)
    skew = gateway_auth.MAX_SKEW_SECONDS
    assert gateway_auth.is_valid(BODY, headers, TOKEN, now=10_000 + skew)
    assert not gateway_auth.is_valid(BODY, headers, TOKEN, now=10_000 + skew + 1)
    assert not gateway_auth.is_valid(BODY, headers, TOKEN, now=10_000 - skew - 1)


def test_a_changed_timestamp_breaks_the_signature() -> None:
    headers = gateway_auth.sign(BODY, TOKEN, now=10_000)
    headers[gateway_auth.TIMESTAMP_HEADER] = "10001"
    assert not gateway_auth.is_valid(BODY, headers, TOKEN, now=10_000)


def test_the_key_is_not_the_plain_auth_token() -> None:
    """A MAC made with the raw token (e.g. by Plivo's own scheme) does not pass."""
    import hashlib
    import hmac

    raw = hmac.new(TOKEN.encode(), b"100." + BODY, hashlib.sha256).hexdigest()
    headers = {gateway_auth.TIMESTAMP_HEADER: "100", gateway_auth.SIGNATURE_HEADER: raw}
    assert not gateway_auth.is_valid(BODY, headers, TOKEN, now=100)


def test_the_nonce_is_signed_and_required() -> None:
    headers = gateway_auth.sign(BODY, TOKEN, now=100, nonce="n-1")
    assert gateway_auth.nonce_of(headers) == "n-1"
    assert gateway_auth.is_valid(BODY, headers, TOKEN, now=100)
    assert not gateway_auth.is_valid(
        BODY, {**headers, gateway_auth.NONCE_HEADER: "n-2"}, TOKEN, now=100
    )
    without = {k: v for k, v in headers.items() if k != gateway_auth.NONCE_HEADER}
    assert not gateway_auth.is_valid(BODY, without, TOKEN, now=100)
    assert (
        gateway_auth.sign(BODY, TOKEN)[gateway_auth.NONCE_HEADER]
        != gateway_auth.sign(BODY, TOKEN)[gateway_auth.NONCE_HEADER]
    )  # a fresh random nonce per call
