"""The agent console: a Sanic app (pages, JSON API, live stream) over the bot.desk data layer."""

from bot.desk.web.app import create_app

__all__ = ["create_app"]
