"""Live model reload: the Rasa server polls a model server and swaps a new model in.

`install(settings, poller)` (bot/rasa_ext/server.py, when MODEL_SERVER_URL is set) wraps
Rasa's `load_agent_on_start`: the server still loads `--model` from disk at start, then
asks MODEL_SERVER_URL every MODEL_PULL_SECONDS with `If-None-Match: <sha256 of the model
it runs>`. A 304 means nothing new. A 200 brings a new tarball (ETag: its sha256), which is
loaded in a thread, so texts keep being answered by the old model meanwhile; then the
agent's processor, domain and responses are replaced between two turns of the event loop
(no await in between). Turns already running finish on the old processor. A model that
fails to load is refused (logged once per ETag, not retried) and the old one keeps serving;
every later poll names the last refused ETag and why (`X-Model-Refused: <etag> <reason>`),
which the model server's /status shows, so `publish-model` stops waiting at once.

Rasa's own `models:` endpoint does the same, except that it loads the model on the event
loop (the server answers nothing for the seconds a load takes) and, without a model server
at start, starts with no model at all.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

import aiohttp

from bot.model_files import CHUNK, file_sha256
from bot.rasa_ext.once import once
from bot.settings import Settings

logger = logging.getLogger(__name__)

REFUSED_HEADER = "X-Model-Refused"
REASON_CHARS = 160


def short_reason(error: BaseException) -> str:
    """The error's type and first line, ASCII, short enough for a header."""
    text = f"{type(error).__name__}: {error}".strip().splitlines()[0]
    return text.encode("ascii", "replace").decode()[:REASON_CHARS].rstrip(".")


def swap_model(agent: Any, processor: Any, fingerprint: str) -> None:
    """Put a loaded processor into the agent at once (what Agent.load_model does after
    building it); called on the event loop, so no turn sees half of it."""
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator

    agent.processor = processor
    agent.domain = processor.domain
    agent._set_fingerprint(fingerprint)
    agent.tracker_store.domain = processor.domain
    if isinstance(agent.nlg, TemplatedNaturalLanguageGenerator):
        agent.nlg.responses = processor.domain.responses if processor.domain else {}


def build_processor(agent: Any, model_path: Path) -> Any:
    """A MessageProcessor for the model at `model_path` (slow: runs in a thread)."""
    from rasa.core.processor import MessageProcessor

    return MessageProcessor(
        model_path=model_path,
        tracker_store=agent.tracker_store,
        lock_store=agent.lock_store,
        action_endpoint=agent.action_endpoint,
        generator=agent.nlg,
        http_interpreter=agent.http_interpreter,
    )


class ModelPuller:
    """Polls the model server for one agent."""

    def __init__(self, agent: Any, settings: Settings, poller: str) -> None:
        self.agent = agent
        self.url = settings.model_server_url
        self.every = settings.model_pull_seconds
        self.poller = poller
        self.headers = (
            {"Authorization": f"Bearer {settings.model_server_token}"}
            if settings.model_server_token
            else {}
        )
        self.refused: Dict[str, str] = {}  # ETag -> why it did not load
        self.last_refused: Optional[Tuple[str, str]] = None

    async def run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=300, sock_connect=5)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                try:
                    await self.pull_once(session)
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # a model server down must not stop polling
                    logger.debug("model pull from %s failed: %s", self.url, error)
                await asyncio.sleep(self.every)

    async def pull_once(self, session: aiohttp.ClientSession) -> Optional[str]:
        """One poll; the new fingerprint if a model was swapped in."""
        current = self.agent.fingerprint or ""
        # what it runs first, then what it refused: the model server sends neither again
        offered = ", ".join([current, *sorted(self.refused)])
        headers = {**self.headers, "If-None-Match": offered}
        if self.last_refused:
            headers[REFUSED_HEADER] = " ".join(self.last_refused)
        params = {"poller": self.poller}
        async with session.get(self.url, headers=headers, params=params) as response:
            if response.status != 200:
                return None
            etag = response.headers.get("ETag", "").strip('"')
            if not etag or etag == current or etag in self.refused:
                return None
            with tempfile.TemporaryDirectory(prefix="model-pull-") as work:
                path = Path(work) / "model.tar.gz"
                with open(path, "wb") as file:
                    async for chunk in response.content.iter_chunked(CHUNK):
                        file.write(chunk)
                return await self.load(path, etag)

    async def load(self, path: Path, etag: str) -> Optional[str]:
        started = time.monotonic()
        try:
            if await asyncio.to_thread(file_sha256, path) != etag:
                raise ValueError("the download does not match its ETag")
            processor = await asyncio.to_thread(build_processor, self.agent, path)
        except Exception as error:
            self.refused[etag] = short_reason(error)
            self.last_refused = (etag, self.refused[etag])
            logger.exception(
                "Refused model %s from %s: it does not load; the current model %s keeps serving.",
                etag[:12],
                self.url,
                (self.agent.fingerprint or "")[:12],
            )
            return None
        swap_model(self.agent, processor, etag)
        logger.info(
            "Loaded model %s from %s in %.1f s", etag[:12], self.url, time.monotonic() - started
        )
        return etag


def install(settings: Settings, poller: str) -> None:
    """Wrap Rasa's `load_agent_on_start` to start polling, when a model server is set."""
    if settings.model_server_url:
        _install(settings, poller)


@once
def _install(settings: Settings, poller: str) -> None:
    """Wrap Rasa's `load_agent_on_start` (once per process)."""
    import rasa.core.run as rasa_run

    logger.setLevel(logging.INFO)  # Rasa shows INFO for `rasa.*` only: show our swaps too
    load_agent_on_start = rasa_run.load_agent_on_start

    async def load_and_poll(model_path: str, *args: Any, **kwargs: Any) -> Any:
        agent = await load_agent_on_start(model_path, *args, **kwargs)
        if agent is not None and agent.processor is not None and model_path:
            path = Path(model_path)
            if path.is_file():  # the fingerprint the model server's ETag is compared with
                agent._set_fingerprint(await asyncio.to_thread(file_sha256, path))
        puller = ModelPuller(agent, settings, poller)
        asyncio.get_running_loop().create_task(puller.run(), name="model-pull")
        return agent

    rasa_run.load_agent_on_start = load_and_poll
