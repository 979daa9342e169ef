"""Apply Alembic migrations programmatically (used by the CLI and tests)."""

from __future__ import annotations

from typing import Optional

from alembic import command
from alembic.config import Config

from bot.settings import PROJECT_ROOT, get_settings


def alembic_config(database_url: Optional[str] = None) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "bot" / "store" / "migrations"))
    config.attributes["database_url"] = database_url or get_settings().database_url
    return config


def upgrade(database_url: Optional[str] = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)
