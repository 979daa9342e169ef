"""`@once`: an `install()` that patches Rasa runs at most once per process."""

from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

Install = TypeVar("Install", bound=Callable[..., None])


def once(install: Install) -> Install:
    """`install`, run by its first call that returns normally; later calls do nothing."""
    done = False

    @functools.wraps(install)
    def install_once(*args: Any, **kwargs: Any) -> None:
        nonlocal done
        if done:
            return
        install(*args, **kwargs)
        done = True

    return install_once  # type: ignore[return-value]
