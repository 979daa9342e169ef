"""`@once`: the patches installed when Rasa starts are installed once per process."""

from __future__ import annotations

from typing import List

import pytest

from bot.rasa_ext.once import once


def test_install_runs_once_and_a_failed_install_can_be_retried() -> None:
    calls: List[str] = []

    @once
    def install(name: str) -> None:
        """Patch something."""
        calls.append(name)
        if name == "broken":
            raise RuntimeError("could not patch")

    with pytest.raises(RuntimeError):
        install("broken")
    install("first")
    install("second")
    assert calls == ["broken", "first"]
    assert install.__doc__ == "Patch something."
