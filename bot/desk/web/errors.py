"""Error responses: JSON for the API, a small HTML page for pages; details only in the log."""

from __future__ import annotations

import logging

from sanic import Sanic
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.desk.web.auth import is_api, message_page
from bot.desk.web.jsonio import error

logger = logging.getLogger(__name__)


def register(app: Sanic) -> None:
    """Install the handlers."""

    @app.exception(SanicException)
    async def known(request: Request, exception: SanicException) -> HTTPResponse:
        """Sanic's own errors (400, 404, 405...)."""
        status = getattr(exception, "status_code", 500) or 500
        message = str(exception) if status < 500 else "server error"
        if is_api(request):
            return error(message or "error", status)
        return message_page("Error", message or "error", status)

    @app.exception(Exception)
    async def unexpected(request: Request, exception: Exception) -> HTTPResponse:
        """Anything else: logged, answered with a bare 500."""
        logger.error("%s %s failed", request.method, request.path, exc_info=exception)
        if is_api(request):
            return error("server error", 500)
        return message_page("Error", "Something went wrong. Try again.", 500)
