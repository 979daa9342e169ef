"""The Plivo channel's configuration: credentials.yml keys over the environment."""

from __future__ import annotations

import pytest
import yaml

from bot.settings import PROJECT_ROOT
from channels.plivo import PlivoInput

ENV = {
    "PLIVO_AUTH_ID": "MATESTSTANDIN0000000",
    "PLIVO_AUTH_TOKEN": "token",
    "PLIVO_NUMBER": "15005550100",
    "BOT_PUBLIC_URL": "https://sms.example.com/",
}


@pytest.fixture(autouse=True)
def plivo_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SMS_FRONT_DOOR", raising=False)


def test_production_credentials_put_the_gateway_in_front() -> None:
    credentials = yaml.safe_load((PROJECT_ROOT / "deploy/credentials.production.yml").read_text())
    channel = PlivoInput.from_credentials(credentials["channels.plivo.PlivoInput"])
    assert channel.settings.sms_front_door == "gateway"
    assert channel.settings.plivo_number == "+15005550100"
    assert channel.settings.bot_public_url == "https://sms.example.com"


def test_local_credentials_default_to_the_rasa_server(monkeypatch: pytest.MonkeyPatch) -> None:
    local = yaml.safe_load((PROJECT_ROOT / "credentials.yml").read_text())
    assert (
        PlivoInput.from_credentials(local["channels.plivo.PlivoInput"]).settings.sms_front_door
        == "rasa"
    )
    monkeypatch.setenv("SMS_FRONT_DOOR", "Gateway")
    assert PlivoInput.from_credentials(None).settings.sms_front_door == "gateway"


def test_bad_front_door_and_missing_secrets_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="front_door"):
        PlivoInput.from_credentials({"front_door": "nginx"})
    monkeypatch.delenv("PLIVO_AUTH_TOKEN")
    with pytest.raises(ValueError, match="PLIVO_AUTH_TOKEN"):
        PlivoInput.from_credentials({})
