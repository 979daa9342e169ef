"""The console's Sanic app: routes, the gate (auth + CSRF), headers, and the desk's
maintenance loop as a background task."""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
from typing import Dict

from sanic import Sanic

from bot.desk.maintenance_beat import LOOP_INTERVAL_SECONDS, maintenance_alive
from bot.desk.web import (
    api_canned,
    api_conversation,
    api_figures,
    api_notify,
    api_presence,
    api_queue,
    api_requests,
    api_review,
    api_search,
    api_supervisor,
    api_surveys,
    errors,
    headers,
    login,
    pages,
    sse,
)
from bot.desk.web.auth import gate
from bot.outbound.templates import ALL_TEMPLATES, load_templates
from bot.settings import Settings
from bot.sms import metrics
from bot.store.db import session_scope

logger = logging.getLogger(__name__)

_names = itertools.count(1)
MAINTENANCE_INTERVAL = LOOP_INTERVAL_SECONDS  # the beat's freshness assumes this interval
MAINTENANCE_RESTART_SECONDS = 5.0


async def _maintenance(settings: Settings, interval: float) -> None:
    """Run the desk's maintenance loop (if that module exists), restarting it if it fails."""
    try:
        from bot.desk.maintenance import maintenance_loop
    except ModuleNotFoundError as missing:
        if missing.name != "bot.desk.maintenance":
            raise
        logger.info("bot.desk.maintenance not available: no maintenance loop in this process")
        return
    logger.info("maintenance loop started (every %.1fs)", interval)
    while True:
        try:
            await maintenance_loop(settings, interval=interval)
            return
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - logged; the loop is restarted
            logger.exception("maintenance loop failed; restarting")
            await asyncio.sleep(MAINTENANCE_RESTART_SECONDS)


def maintenance_health(database_url: str) -> Dict[str, bool]:
    """/health's `maintenance_alive`: whether some console's maintenance loop beat lately
    (false: nobody is auto-assigned; this console's own health is not affected)."""
    with session_scope(database_url) as session:
        return {"maintenance_alive": maintenance_alive(session)}


def create_app(settings: Settings, maintenance: bool = True) -> Sanic:
    """The console app on `settings.database_url` (not started); TemplateError if the
    notification templates (data/notifications.yml) are unusable."""
    app = Sanic(f"agent_desk_{next(_names)}", configure_logging=False)
    app.ctx.settings = settings
    app.ctx.templates = load_templates(settings.business_name, required=ALL_TEMPLATES)
    app.config.REQUEST_MAX_SIZE = 64 * 1024
    app.config.KEEP_ALIVE_TIMEOUT = 15
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.register_middleware(headers.start_clock, "request")
    app.register_middleware(gate, "request")
    app.register_middleware(headers.finish, "response")
    for module in (
        login,
        pages,
        api_queue,
        api_conversation,
        api_presence,
        api_supervisor,
        api_search,
        api_canned,
        api_figures,
        api_requests,
        api_notify,
        api_review,
        api_surveys,
        sse,
        errors,
    ):
        module.register(app)
    # GET /metrics, /health: counts only, and whether a console's maintenance loop runs
    metrics.add_routes(
        app,
        settings.prometheus_multiproc_dir,
        extra_health=functools.partial(maintenance_health, settings.database_url),
        ctx_public=True,
    )

    if maintenance:

        @app.after_server_start
        async def start_maintenance(app: Sanic, _loop: object) -> None:
            """Start the maintenance loop with the server."""
            app.ctx.maintenance = asyncio.get_running_loop().create_task(
                _maintenance(app.ctx.settings, MAINTENANCE_INTERVAL)
            )

        @app.before_server_stop
        async def stop_maintenance(app: Sanic, _loop: object) -> None:
            """Stop it before the server stops."""
            task = getattr(app.ctx, "maintenance", None)
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    return app
