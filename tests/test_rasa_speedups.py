"""The speed-ups keep Rasa's behaviour: same event classes, same validation errors."""

from __future__ import annotations

import pytest
import rasa.shared.utils.common
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import Event

from bot.rasa_ext import speedups


def original_resolve(type_name: str):  # noqa: ANN201
    for cls in rasa.shared.utils.common.all_subclasses(Event):
        if cls.type_name == type_name:
            return cls
    return None


def test_event_lookup_matches_the_original_walk() -> None:
    speedups.install()
    names = {cls.type_name for cls in rasa.shared.utils.common.all_subclasses(Event)}
    assert len(names) > 20
    for name in names:
        assert Event.resolve_by_type(name) is original_resolve(name)
    with pytest.raises(ValueError):
        Event.resolve_by_type("no_such_event")
    assert Event.resolve_by_type("topic") is None


def test_action_results_are_still_validated() -> None:
    speedups.install()
    action = RemoteAction("action_x", None)
    good = {"events": [{"event": "slot", "name": "a", "value": 1}], "responses": []}
    assert action._validate_action_result(good)
    with pytest.raises(ValidationError) as bad:
        action._validate_action_result({"events": [{"event": "slot", "name": 5}]})
    assert "Failed to validate Action server response" in bad.value.message


@pytest.mark.parametrize(
    ("command", "patches"),
    [("server", "speedups"), ("train", "train_speedups")],
)
def test_the_commands_install_their_patches_before_rasa_starts(
    monkeypatch: pytest.MonkeyPatch, command: str, patches: str
) -> None:
    """`python -m bot.rasa_ext.server run ...` = `rasa run ...` with the server's patches,
    `python -m bot.rasa_ext.train train ...` = `rasa train ...` with the training ones."""
    import importlib

    import rasa.__main__

    main = importlib.import_module(f"bot.rasa_ext.{command}").main
    calls = []
    monkeypatch.setattr(
        importlib.import_module(f"bot.rasa_ext.{patches}"),
        "install",
        lambda: calls.append("install"),
    )
    monkeypatch.setattr(rasa.__main__, "main", lambda: calls.append("rasa"))
    main()
    assert calls == ["install", "rasa"]
