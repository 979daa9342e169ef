"""The Review page's API (supervisors): texts the bot failed, and their labels."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.desk.web.auth import current
from bot.desk.web.body import payload, text_field
from bot.desk.web.dbcall import in_db
from bot.desk.web.jsonio import error, reply
from bot.review.collect import collect
from bot.review.labels import labels, save_label
from bot.review.training_data import intent_files
from bot.store.db import run_sync
from bot.text.masking import mask_numbers, normalise

MAX_ITEMS = 300


def register(app: Sanic) -> None:
    """Add the review routes (403 for agents)."""

    @app.get("/api/review", ctx_role="supervisor")
    async def review_items(request: Request) -> HTTPResponse:
        """GET /api/review: failed texts (grouped, masked), their labels, the intents."""
        settings = request.app.ctx.settings
        items = await run_sync(collect, settings.tracker_database_url)
        known = await in_db(request.app, labels)
        rows: List[Dict[str, Any]] = []
        for item in items[:MAX_ITEMS]:
            row = item.as_dict()
            row["label"], row["decided"] = known.get(item.key), item.key in known
            rows.append(row)
        intents = await run_sync(lambda: list(intent_files()))
        return reply({"items": rows, "intents": intents})

    @app.post("/api/review/label", ctx_role="supervisor")
    async def review_label(request: Request) -> HTTPResponse:
        """POST {"key", "text", "label"}: label a text (an intent, out_of_scope; null skips)."""
        data = payload(request)
        key, text = text_field(data, "key"), mask_numbers(text_field(data, "text"))
        label: Optional[str] = data.get("label")
        if not key or normalise(text) != key:
            return error("key and text do not match", 400)
        if label is not None:
            intents = await run_sync(lambda: set(intent_files()))
            if not isinstance(label, str) or label not in intents:
                return error("label must be an intent of the training data or null", 400)
        agent_id = current(request).agent.id
        await in_db(request.app, save_label, key, " ".join(text.split()), label, agent_id)
        return reply({"ok": True, "key": key, "label": label})
