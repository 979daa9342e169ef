"""The action server's settings: the actions package's one entry point to them.

rasa_sdk builds every action without arguments, so the actions cannot be handed the
settings; they call `action_settings()`, read from the environment on first use and then
kept for the life of the process. The bot/ helpers they call take the values as parameters.
"""

from __future__ import annotations

import functools

from bot.settings import Settings, get_settings


@functools.lru_cache(maxsize=1)
def action_settings() -> Settings:
    """This process's settings (SettingsError names a bad variable)."""
    return get_settings()
