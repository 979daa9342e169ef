"""Publish a trained model to the model server and wait until every Rasa server runs it.

`make reload` = `make train` (if stale) + `python -m bot publish-model`. Publishing checks
that the tarball is a Rasa model (its metadata reads), then replaces the published file at
once (bot/model_files.py); the Rasa servers polling the model server load it within
MODEL_PULL_SECONDS plus a load. A model that does not load is refused by each server, which
keeps its old one (bot/rasa_ext/model_pull.py) and says so at its next poll: the wait stops
as soon as every server runs the new model or refused it.
"""

from __future__ import annotations

import json
import tarfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional
from urllib.parse import urlsplit, urlunsplit

from bot.model_files import file_sha256, replace_atomically

# a poller not heard from for this long is taken as gone (stopped, or another model server)
POLLER_GONE_SECONDS = 15.0


class ModelRejected(ValueError):
    """The file is not a Rasa model."""


def check_model(path: Path) -> None:
    """Raise ModelRejected unless `path` is a gzipped tar holding a Rasa model's
    metadata.json (what Rasa reads first; read here without importing Rasa, in a second)."""
    try:
        with tarfile.open(path, "r:gz") as archive:
            member = next(
                (m for m in archive if m.isfile() and m.name.lstrip("./") == "metadata.json"),
                None,
            )
            if member is None:
                raise ValueError("no metadata.json")
            metadata = json.load(archive.extractfile(member))  # type: ignore[arg-type]
        missing = {"domain", "model_id", "train_schema"} - set(metadata)
        if missing:
            raise ValueError(f"metadata.json lacks {', '.join(sorted(missing))}")
    except (OSError, EOFError, tarfile.TarError, ValueError) as error:
        raise ModelRejected(f"{path} is not a Rasa model: {error}") from None


def publish(source: Path, target: Path, check: bool = True) -> str:
    """Replace the published model with `source`; its ETag."""
    if check:
        check_model(source)
    replace_atomically(source, target)
    return file_sha256(target)


def status_url(model_url: str) -> str:
    """The model server's /status beside its /model."""
    parts = urlsplit(model_url)
    return urlunsplit((parts.scheme, parts.netloc, "/status", "", ""))


def read_status(model_url: str, token: str) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(status_url(model_url), headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


@dataclass
class Rollout:
    etag: str
    seconds: float
    servers: Dict[str, str]  # poller -> the fingerprint it runs
    refused: Dict[str, str] = field(default_factory=dict)  # poller -> why it refused `etag`

    @property
    def behind(self) -> List[str]:
        return sorted(name for name, runs in self.servers.items() if runs != self.etag)

    @property
    def waiting(self) -> List[str]:
        """Servers neither running `etag` nor having refused it."""
        return [name for name in self.behind if name not in self.refused]


def wait_rolled_out(
    model_url: str, token: str, etag: str, timeout: float, expect: int = 1
) -> Rollout:
    """Poll the model server until every live poller (at least `expect`) runs `etag` or
    refused to load it."""
    started = time.monotonic()
    while True:
        status = read_status(model_url, token)
        live = {
            name: poller
            for name, poller in status["pollers"].items()
            if poller["seen_seconds_ago"] <= POLLER_GONE_SECONDS
        }
        servers = {name: poller["fingerprint"] for name, poller in live.items()}
        refused = {
            name: (poller.get("refused") or {}).get("reason", "")
            for name, poller in live.items()
            if (poller.get("refused") or {}).get("etag") == etag and servers[name] != etag
        }
        rollout = Rollout(etag, time.monotonic() - started, servers, refused)
        if len(servers) >= expect and not rollout.waiting:
            return rollout
        if rollout.seconds > timeout:
            return rollout
        time.sleep(0.2)


def describe(rollout: Rollout, timeout: Optional[float] = None) -> str:
    """One line per outcome: refused, still behind, or running everywhere."""
    names = ", ".join(sorted(rollout.servers)) or "no Rasa server polling"
    lines = [
        f"refused by {name}: {reason or 'it does not load'}; "
        f"still serving {rollout.servers[name][:12]}"
        for name, reason in sorted(rollout.refused.items())
    ]
    if rollout.waiting or not rollout.servers:
        lines.append(
            f"not every server runs {rollout.etag[:12]} after {timeout} s: behind: "
            + (", ".join(rollout.waiting) or names)
        )
    if lines:
        return "\n".join(lines)
    return f"model {rollout.etag[:12]} running on {names} after {rollout.seconds:.1f} s"
