"""docs/designing.md "Add an FAQ topic", followed literally in a copy of the project.

The assistant runs first, on the current model, with a model server its Rasa server polls
(`make run`). Then, in the copy, data files only (data/nlu/faq.yml, data/faq_answers.yml),
and the documented commands themselves: `make check`, then `make reload`, which trains the
stale model first (as `make train` does) and returns once the running Rasa server answers
with the new model. The copy links the
Makefile, the requirements and the project's `.venv`, whose install stamp is up to date, so
make reuses the venv and reinstalls nothing (checked first with `make -q`). The question
texted over SMS (Plivo stand-in, receiver, worker, Rasa, action server) gets the new answer.
Then the answer's wording is edited and the new wording answers without retraining or a
reload.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, Optional

import pytest

from bot.launcher import child_env, free_port, wait_http
from bot.model_files import file_sha256
from bot.model_publish import publish
from bot.settings import PROJECT_ROOT
from tests.sms_harness import SmsSetup

pytestmark = pytest.mark.slow

SPA_EXAMPLES = [
    "is there a spa",
    "do you have a spa",
    "spa hours?",
    "can i book a massage",
    "is the sauna open",
    "how much is a massage",
    "do u have a hot tub",
    "is there a steam room",
    "where is the spa",
    "spa treatments available?",
    "can i get a facial at the hotel",
    "is the spa open on sunday",
    "do guests get free spa access",
    "whats on the spa menu",
    "how do i reserve a spa appointment",
    "is there a jacuzzi",
]
JORDAN = "+15005550004"
SPA_ANSWER = "Our spa is open 9am-8pm daily; massages from $80. Book at the front desk."


LINKED = (
    *("actions", "bot", "channels", "tests", "credentials.yml", "endpoints.yml"),
    *("Makefile", ".venv", "requirements.txt", "requirements-dev.txt"),
    *("requirements-model.txt", "constraints.txt"),
)


def copy_project(root: Path) -> None:
    """The data copied (the designer edits it); code, Makefile and venv linked."""
    for name in ("data", "domain.yml", "config.yml"):
        source = PROJECT_ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, root / name)
    for name in LINKED:
        (root / name).symlink_to(PROJECT_ROOT / name)


def add_spa_topic(root: Path) -> None:
    """Step 1 and 2 of docs/designing.md: examples, then answer and description."""
    faq = root / "data" / "nlu" / "faq.yml"
    block = "\n  - intent: faq/spa\n    examples: |\n"
    block += "".join(f"      - {text}\n" for text in SPA_EXAMPLES)
    faq.write_text(faq.read_text().rstrip("\n") + "\n" + block)
    answers = root / "data" / "faq_answers.yml"
    answers.write_text(
        answers.read_text() + f'  spa:\n    description: our spa\n    answer: "{SPA_ANSWER}"\n'
    )


def ask_spa(setup: SmsSetup, text: str) -> str:
    """The answer; a "did you mean" on the way (new topic, few examples) names it and is taken."""
    reply = setup.ask(JORDAN, text)
    if reply.startswith("Sorry, did you want to ask about our spa?"):
        reply = setup.ask(JORDAN, "1")
    return reply


def make(
    target: str, cwd: Path, timeout: float, env: Optional[Dict[str, str]] = None
) -> subprocess.CompletedProcess:
    """`make <target>` in the copy, as a designer types it."""
    return subprocess.run(
        ["make", target], cwd=cwd, env=child_env(env), capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip


def make_question(target: str, cwd: Path) -> subprocess.CompletedProcess:
    """`make -q <target>`: exit 0 when it is up to date (nothing is run)."""
    return subprocess.run(
        ["make", "-q", target], cwd=cwd, env=child_env(), capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip


def test_an_faq_topic_added_through_data_files_only_is_answered_over_sms_after_a_reload(
    tmp_path: Path, trained_model: Path
) -> None:
    from bot.store.db import session_scope
    from bot.store.migrate import upgrade
    from bot.store.seed import seed

    root = tmp_path / "project"
    root.mkdir()
    copy_project(root)
    answers = root / "data" / "faq_answers.yml"
    # the shared venv is reused as is: make must not reinstall it
    stamp = make_question(".venv/.installed", root)
    assert stamp.returncode == 0, "the venv's install stamp is stale: run make setup first"

    # `make run`: the current model published, the model server, the assistant polling it
    published = tmp_path / "published" / "sms-bot.tar.gz"
    publish(trained_model, published)
    port = free_port()
    model_url = f"http://127.0.0.1:{port}/model"
    # the model server's file, and where make reload points (make run: port 5007)
    reload_env = {"MODEL_PUBLISH_FILE": str(published), "MODEL_SERVER_URL_LOCAL": model_url}
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(url)
    with session_scope(url) as session:
        seed(session)
    with open(tmp_path / "models_server.log", "ab") as out:  # the child keeps its own copy
        server = subprocess.Popen(
            [sys.executable, "-m", "bot.models_server", "--port", str(port)],
            cwd=PROJECT_ROOT,
            env=child_env(reload_env),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    setup = None
    try:
        wait_http(f"http://127.0.0.1:{port}/status", timeout=30, proc=server)
        setup = SmsSetup(
            url,
            trained_model,
            tmp_path,
            extra_env={
                "MODEL_SERVER_URL": model_url,
                "MODEL_PULL_SECONDS": "0.5",
                "FAQ_ANSWERS_FILE": str(answers),
            },
        ).start()

        # steps 1 and 2, then step 3: make check, then make reload, which trains if stale
        add_spa_topic(root)
        check = make("check", root, 600)
        assert check.returncode == 0, check.stdout + check.stderr
        assert "check: all passed" in check.stdout
        model = root / "models" / "sms-bot.tar.gz"
        assert not model.exists() and make_question("train", root).returncode != 0
        reload = make("reload", root, 1800, {**reload_env, "DATABASE_URL": url})
        tail = reload.stdout[-2000:] + reload.stderr[-2000:]
        assert reload.returncode == 0 and model.exists(), tail
        assert "bot.rasa_ext.train train" in reload.stdout, tail  # stale: make reload trained
        assert "pip install" not in reload.stdout, tail
        assert "running on" in reload.stdout, reload.stdout
        assert file_sha256(published) == file_sha256(model)
        assert make_question("train", root).returncode == 0  # the model is up to date now

        assert ask_spa(setup, "is there a spa at the hotel?") == SPA_ANSWER
        # a new wording is live without retraining or a reload
        answers.write_text(answers.read_text().replace("from $80", "from $85"))
        assert ask_spa(setup, "do you have a spa") == SPA_ANSWER.replace("from $80", "from $85")
        assert make_question("train", root).returncode == 0  # not a model input: no retrain
    finally:
        if setup is not None:
            setup.stop()
        server.terminate()
        server.wait(10)
