"""Live reload in the scaled topology (deploy/Procfile): two Rasa servers poll the model
server (models1, with its token) and both switch; texts sent through the SMS path while
they do are each answered exactly once, by the old or the new model. Their HTTP API
(`--enable-api`) refuses `PUT /model` without the right RASA_AUTH_TOKEN."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Dict, Iterator, List, Optional
from urllib.parse import quote

import pytest

from bench.model_variants import reworded_model
from bot.model_publish import publish, wait_rolled_out
from tests.scaled_topology import ScaledTopology

pytestmark = pytest.mark.slow

OLD = "I can: check an order"
NEW = "Reloaded! I can: check an order"
PHONES = [f"+1500555{n:04d}" for n in range(7101, 7104)]


@pytest.fixture(scope="module")
def topology(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    top = ScaledTopology(tmp_path_factory.mktemp("scaled-reload"))
    try:
        top.start()
        yield top
    finally:
        top.stop()


def test_both_rasa_servers_switch_and_every_text_is_answered_once(
    topology: ScaledTopology, trained_model: Path, tmp_path: Path
) -> None:
    env = topology.env
    url, token = env["MODEL_SERVER_URL"], env["MODEL_SERVER_TOKEN"]
    published = Path(env["MODEL_PUBLISH_FILE"])
    first = publish(trained_model, published)
    rollout = wait_rolled_out(url, token, first, timeout=60, expect=2)
    assert len(rollout.servers) == 2 and not rollout.behind, rollout

    variant = reworded_model(trained_model, tmp_path / "variant.tar.gz", "utter_menu", OLD, NEW)
    sent = {phone: 0 for phone in PHONES}
    before = {phone: len(topology.sent(phone)) for phone in PHONES}
    stop = threading.Event()

    def keep_texting() -> None:
        while not stop.is_set():
            for phone in PHONES:
                topology.text(phone, "MENU")
                sent[phone] += 1
            time.sleep(0.3)

    texter = threading.Thread(target=keep_texting)
    texter.start()
    try:
        time.sleep(1.0)
        started = time.monotonic()
        second = publish(variant, published)
        rollout = wait_rolled_out(url, token, second, timeout=180, expect=2)
        print(f"scaled reload: both servers on the new model in {time.monotonic() - started:.1f} s")
        time.sleep(1.0)
    finally:
        stop.set()
        texter.join()
    assert len(rollout.servers) == 2 and not rollout.behind, rollout

    answered: Dict[str, List[str]] = {}
    for phone in PHONES:
        texts = topology.wait_replies(phone, before[phone] + sent[phone], 120)
        answered[phone] = texts[before[phone] :]
    time.sleep(2.0)
    for phone in PHONES:
        assert len(topology.sent(phone)) == before[phone] + sent[phone]  # exactly once
        for text in answered[phone]:
            assert text.startswith(OLD) or text.startswith(NEW), text
    everything = [text for texts in answered.values() for text in texts]
    # texting starts a second before publishing, and a swap takes the next poll plus a
    # load (seconds): the first texts are the old model's
    assert any(t.startswith(OLD) for t in everything), "no text answered before the swap"
    assert any(t.startswith(NEW) for t in everything), "no text answered after the swap"
    # the workers spread texts over both servers: every answer now is the new one
    for phone in PHONES:
        for _ in range(2):
            assert topology.ask(phone, "MENU").startswith(NEW)


def put_model(url: str, token: Optional[str]) -> int:
    """The HTTP status of Rasa's `PUT /model` (load a model file), with `?token=` if given."""
    query = f"?token={quote(token)}" if token is not None else ""
    body = json.dumps({"model_file": "models/sms-bot.tar.gz"}).encode()
    request = urllib.request.Request(
        f"{url}/model{query}", body, {"Content-Type": "application/json"}, method="PUT"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def rasa_status(url: str, token: str) -> dict:
    """Rasa's GET /status (the model it runs), with the right token."""
    with urllib.request.urlopen(f"{url}/status?token={quote(token)}", timeout=30) as response:
        return json.load(response)


def test_the_rasa_servers_refuse_put_model_without_the_right_token(
    topology: ScaledTopology,
) -> None:
    env = topology.env
    token = env["RASA_AUTH_TOKEN"]
    for url in (env["RASA_URL_1"], env["RASA_URL_2"]):
        before = rasa_status(url, token)
        assert before["model_id"], before
        assert put_model(url, None) == 401
        assert put_model(url, "wrong-" + token) == 401
        after = rasa_status(url, token)  # the right token is what lets a caller in
        assert (after["model_id"], after["model_file"]) == (
            before["model_id"],
            before["model_file"],
        )
    for phone in PHONES:
        assert topology.ask(phone, "MENU").startswith(NEW)
