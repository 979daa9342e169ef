"""The model server over HTTP: token, ETag / 304, what the pollers run, nothing writable."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Dict, Iterator, Optional, Tuple

import pytest

from bot.launcher import child_env, free_port
from bot.model_files import file_sha256, replace_atomically
from bot.model_publish import ModelRejected, publish, read_status, status_url
from bot.settings import PROJECT_ROOT

TOKEN = "test-model-token"


def request(
    url: str, headers: Optional[Dict[str, str]] = None, method: str = "GET"
) -> Tuple[int, Dict[str, str], bytes]:
    req = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture
def model_server(tmp_path: Path) -> Iterator[Tuple[str, Path]]:
    published = tmp_path / "published.tar.gz"
    port = free_port()
    with open(tmp_path / "server.log", "ab") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "bot.models_server", "--port", str(port)],
            cwd=PROJECT_ROOT,
            env=child_env({"MODEL_SERVER_TOKEN": TOKEN, "MODEL_PUBLISH_FILE": str(published)}),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:  # up when it answers (401: it wants the token)
            try:
                request(f"http://127.0.0.1:{port}/status")
                break
            except urllib.error.URLError:
                assert time.monotonic() < deadline and server.poll() is None
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/model", published
    finally:
        server.terminate()
        server.wait(10)


def test_the_model_server_serves_the_published_file_by_etag_to_token_holders(
    model_server, tmp_path: Path
) -> None:
    url, published = model_server
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert request(url)[0] == 401
    assert request(url, {"Authorization": "Bearer wrong"})[0] == 401
    assert request(status_url(url))[0] == 401
    assert request(url, auth)[0] == 404  # nothing published yet

    source = tmp_path / "model.tar.gz"
    source.write_bytes(b"model bytes " * 1000)
    replace_atomically(source, published)
    etag = file_sha256(source)
    status, headers, body = request(url + "?poller=a:1", {**auth, "If-None-Match": "old"})
    assert (status, headers["ETag"], body) == (200, etag, source.read_bytes())
    status, headers, body = request(url + "?poller=b:2", {**auth, "If-None-Match": etag})
    assert (status, headers["ETag"], body) == (304, etag, b"")
    # a server that refused this model lists it after the one it runs: not sent again;
    # it says why, which /status shows (publish-model stops waiting on it)
    refused = {
        **auth,
        "If-None-Match": f"older, {etag}",
        "X-Model-Refused": f"{etag} GraphSchemaException: no such class",
    }
    assert request(url + "?poller=c:3", refused)[:1] == (304,)

    seen = read_status(url, TOKEN)
    assert seen["etag"] == etag
    assert {name: p["fingerprint"] for name, p in seen["pollers"].items()} == {
        "a:1": "old",
        "b:2": etag,
        "c:3": "older",
    }
    assert seen["pollers"]["c:3"]["refused"] == {
        "etag": etag,
        "reason": "GraphSchemaException: no such class",
    }
    assert seen["pollers"]["a:1"]["refused"] is None
    # nothing over HTTP changes the model, with or without the token
    for method in ("PUT", "POST", "DELETE"):
        assert request(url, auth, method)[0] == 501
    assert json.loads(request(status_url(url), auth)[2])["etag"] == etag


def test_publish_refuses_what_is_not_a_rasa_model(tmp_path: Path) -> None:
    target = tmp_path / "published.tar.gz"
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelRejected):
        publish(bad, target)
    assert not target.exists()
