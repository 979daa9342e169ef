"""Live reload over the SMS path: publish a model, every Rasa server swaps it in.

The embedded topology (SQLite, one worker, one Rasa server) with a model server
(`python -m bot.models_server`) that the Rasa server polls. Texts sent while a new model
is published and loaded are each answered exactly once, by the old or the new model; after
the swap the new wording answers; a corrupt model is refused and the last good one keeps
serving; one that passes the publish check but does not load is refused and
`publish-model` says so at once. Nothing reachable over HTTP changes the model.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest

from bench.model_variants import reworded_model, unloadable_model
from bot.launcher import child_env, free_port, wait_http
from bot.model_files import file_sha256, replace_atomically
from bot.model_publish import (
    ModelRejected,
    check_model,
    publish,
    read_status,
    wait_rolled_out,
)
from bot.settings import PROJECT_ROOT
from bot.store.db import session_scope
from bot.store.migrate import upgrade
from bot.store.seed import seed
from tests.sms_harness import SmsSetup

pytestmark = pytest.mark.slow

OLD = "I can: check an order"
NEW = "Reloaded! I can: check an order"
PHONES = [f"+1500555{n:04d}" for n in range(7001, 7005)]


@pytest.fixture(scope="module")
def reload_setup(trained_model: Path, tmp_path_factory) -> Iterator[Dict[str, object]]:
    work = tmp_path_factory.mktemp("reload")
    published = work / "published" / "sms-bot.tar.gz"
    port = free_port()
    model_url = f"http://127.0.0.1:{port}/model"
    env = child_env({"MODEL_SERVER_URL": model_url, "MODEL_PULL_SECONDS": "0.5"})
    with open(work / "models_server.log", "ab") as out:  # the child keeps its own copy
        server = subprocess.Popen(
            [sys.executable, "-m", "bot.models_server", "--port", str(port)]
            + ["--model-file", str(published)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"sqlite:///{work / 'bot.db'}"
    upgrade(url)
    with session_scope(url) as session:
        seed(session)
    setup = None
    try:
        wait_http(f"http://127.0.0.1:{port}/status", timeout=30, proc=server)
        setup = SmsSetup(
            url,
            trained_model,
            work,
            extra_env={"MODEL_SERVER_URL": model_url, "MODEL_PULL_SECONDS": "0.5"},
        ).start()
        yield {"sms": setup, "url": model_url, "published": published, "work": work}
    finally:
        if setup is not None:
            setup.stop()
        server.terminate()
        server.wait(10)


def replies(sms: SmsSetup, phone: str) -> List[str]:
    return [m["text"] for m in sms.sent(phone)]


def test_texts_during_a_reload_are_answered_once_then_the_new_model_answers(
    reload_setup, trained_model: Path
) -> None:
    sms: SmsSetup = reload_setup["sms"]
    url, published, work = reload_setup["url"], reload_setup["published"], reload_setup["work"]

    # the model it runs, published: the server polls, finds it runs it, loads nothing
    first = publish(trained_model, published)
    assert first == file_sha256(trained_model)
    rollout = wait_rolled_out(url, "", first, timeout=60)
    assert list(rollout.servers.values()) == [first], rollout
    assert OLD in sms.ask(PHONES[0], "MENU")

    variant = reworded_model(trained_model, work / "variant.tar.gz", "utter_menu", OLD, NEW)
    sent = {phone: 0 for phone in PHONES}
    stop = threading.Event()

    def keep_texting() -> None:
        while not stop.is_set():
            for phone in PHONES:
                sms.text(phone, "MENU")
                sent[phone] += 1
            time.sleep(0.15)

    before = {phone: len(replies(sms, phone)) for phone in PHONES}
    texter = threading.Thread(target=keep_texting)
    texter.start()
    try:
        time.sleep(1.0)
        started = time.monotonic()
        second = publish(variant, published)
        rollout = wait_rolled_out(url, "", second, timeout=120)
        reload_seconds = time.monotonic() - started
        time.sleep(1.0)  # texts after the swap too
    finally:
        stop.set()
        texter.join()
    assert not rollout.behind and rollout.servers, rollout
    print(f"reload: published -> answering with it in {reload_seconds:.1f} s")

    answered: Dict[str, List[str]] = {}
    for phone in PHONES:
        got = sms.wait_replies(phone, before[phone] + sent[phone], timeout=90)
        answered[phone] = got[before[phone] :]
    time.sleep(2.0)  # nothing more arrives: each text was answered exactly once
    for phone in PHONES:
        assert replies(sms, phone)[before[phone] :] == answered[phone]
        assert len(answered[phone]) == sent[phone] >= 5
        for text in answered[phone]:
            assert text.startswith(OLD) or text.startswith(NEW), text
    everything = [text for texts in answered.values() for text in texts]
    assert any(t.startswith(OLD) for t in everything), "no text answered before the swap"
    assert any(t.startswith(NEW) for t in everything), "no text answered after the swap"
    assert sms.ask(PHONES[1], "MENU").startswith(NEW)

    # a corrupt model: `publish` refuses it; written over the published file anyway, every
    # server refuses to load it and the last good model keeps answering
    corrupt = work / "corrupt.tar.gz"
    corrupt.write_bytes(b"\x1f\x8b not really a model" * 100)
    with pytest.raises(ModelRejected):
        publish(corrupt, published)
    assert file_sha256(published) == second
    replace_atomically(corrupt, published)
    bad = file_sha256(corrupt)
    log = Path(work / "rasa.log")
    deadline = time.monotonic() + 60
    while "Refused model " + bad[:12] not in log.read_text(errors="replace"):
        assert time.monotonic() < deadline, "the server never tried the corrupt model"
        time.sleep(0.2)
    time.sleep(1.5)  # a few more polls: it is not retried, the good model stays
    status = read_status(url, "")
    assert status["etag"] == bad
    assert [p["fingerprint"] for p in status["pollers"].values()] == [second]
    assert log.read_text(errors="replace").count("Refused model " + bad[:12]) == 1
    assert sms.ask(PHONES[2], "MENU").startswith(NEW)


def http_status(method: str, url: str, headers: Optional[Dict[str, str]] = None) -> int:
    """The HTTP status of one request with a JSON body naming a model file."""
    body = json.dumps({"model_file": str(PROJECT_ROOT / "models/sms-bot.tar.gz")}).encode()
    headers = {"Content-Type": "application/json", **(headers or {})}
    request = urllib.request.Request(url, body, headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_nothing_where_plivo_webhooks_arrive_or_on_the_rasa_server_changes_the_model(
    reload_setup,
) -> None:
    """`make run`'s Rasa server has no HTTP API (no --enable-api): no PUT /model; the
    receiver (the port Plivo's webhooks hit) has no /model route at all."""
    sms: SmsSetup = reload_setup["sms"]
    running = read_status(reload_setup["url"], "")["pollers"]
    assert http_status("PUT", f"{sms.bot_url}/model") in (404, 405)
    for method in ("PUT", "POST"):
        assert http_status(method, f"{sms.front_url}/model") in (404, 405)
    time.sleep(1.5)  # a few polls: it still runs what it ran
    after = read_status(reload_setup["url"], "")["pollers"]
    assert [p["fingerprint"] for p in after.values()] == [
        p["fingerprint"] for p in running.values()
    ]
    assert sms.ask(PHONES[3], "MENU").startswith(NEW)


def test_publishing_a_model_that_does_not_load_stops_at_the_refusal(
    reload_setup, trained_model: Path
) -> None:
    """It passes the publish check (complete metadata) but Rasa cannot build its graph:
    `publish-model` says which server refused it and why, well before its timeout."""
    sms: SmsSetup = reload_setup["sms"]
    url, published, work = reload_setup["url"], reload_setup["published"], reload_setup["work"]
    (running,) = [p["fingerprint"] for p in read_status(url, "")["pollers"].values()]
    broken = unloadable_model(trained_model, work / "unloadable.tar.gz")
    check_model(broken)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "bot", "publish-model", str(broken), "--to", str(published)],
        cwd=PROJECT_ROOT,
        env=child_env(sms.env()),
        capture_output=True,
        text=True,
        timeout=200,
    )
    seconds = time.monotonic() - started
    output = done.stdout + done.stderr
    print(f"publish-model of an unloadable model: {seconds:.1f} s\n{done.stdout}")
    assert done.returncode == 1, output
    assert "refused by " in done.stdout, output
    assert "NoSuchComponent" in done.stdout, output
    assert f"still serving {running[:12]}" in done.stdout, output
    assert seconds < 60, f"{seconds:.1f} s: it waited for its 300 s timeout"
    assert file_sha256(published) == file_sha256(broken)
    status = read_status(url, "")
    assert [p["fingerprint"] for p in status["pollers"].values()] == [running]
    assert sms.ask(PHONES[0], "MENU").startswith(NEW)
