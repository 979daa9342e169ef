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


def test_production_credentials_are_read() -> None:
    credentials = yaml.safe_load((PROJECT_ROOT / "deploy/credentials.production.yml").read_text())
    channel = PlivoInput.from_credentials(credentials["channels.plivo.PlivoInput"])
    assert channel.settings.plivo_number == "+15005550100"
    assert channel.settings.bot_public_url == "https://sms.example.com"


def test_local_credentials_are_read() -> None:
    local = yaml.safe_load((PROJECT_ROOT / "credentials.yml").read_text())
    channel = PlivoInput.from_credentials(local["channels.plivo.PlivoInput"])
    assert channel.settings.plivo_auth_token == "token"


def test_missing_secrets_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PLIVO_AUTH_TOKEN")
    with pytest.raises(ValueError, match="PLIVO_AUTH_TOKEN"):
        PlivoInput.from_credentials({})


def test_the_rasa_server_serves_no_plivo_webhook() -> None:
    """Plivo's webhooks go to the receiver; the Rasa server only answers workers."""
    channel = PlivoInput.from_credentials({})
    blueprint = channel.blueprint(lambda message: None)  # type: ignore[arg-type,return-value]
    uris = {route.uri for route in blueprint._future_routes}
    assert uris == {"/", "/process"}
