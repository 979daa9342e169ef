"""Live reload: seconds from publishing a model to the Rasa server answering with it.

Usage:
    .venv/bin/python -m bench.reload_time [--rounds 3] [--pull 2]

The embedded topology's Rasa server (models/sms-bot.tar.gz, SQLite, REST channel) polls a
model server (`python -m bot.models_server`) every `--pull` seconds. Each round publishes a
variant of the model with `utter_menu` reworded (bench/model_variants.py) and measures:
`status`, until the model server sees the server report the new model (what
`make reload` waits for), and `answer`, until `MENU` over REST gets the new wording.
A text is sent every 0.2 s meanwhile; every one must be answered (none lost in the swap).
It also prints the Rasa server's memory: its peak resident size across the reloads against
its peak before them (starting up and loading the first model), the ratio a host's memory
has to allow for while two models are briefly held at once.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import List

from bench.model_variants import reworded_model
from bench.procstats import proc_stats
from bot.launcher import DEFAULT_MODEL, child_env, free_port, start_stack, wait_http
from bot.model_publish import publish, wait_rolled_out
from bot.settings import PROJECT_ROOT
from bot.store.db import session_scope
from bot.store.migrate import upgrade
from bot.store.seed import seed

OLD = "I can: check an order"


def menu(rasa_url: str, sender: str) -> str:
    body = json.dumps({"sender": sender, "message": "MENU"}).encode()
    request = urllib.request.Request(
        f"{rasa_url}/webhooks/rest/webhook", body, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return " ".join(m.get("text", "") for m in json.load(response))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pull", type=float, default=2.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="reload-bench-") as folder:
        work = Path(folder)
        url = f"sqlite:///{work / 'bot.db'}"
        upgrade(url)
        with session_scope(url) as session:
            seed(session)
        published = work / "published.tar.gz"
        port = free_port()
        model_url = f"http://127.0.0.1:{port}/model"
        env = {"DATABASE_URL": url, "MODEL_SERVER_URL": model_url}
        env["MODEL_PULL_SECONDS"] = str(args.pull)
        with open(work / "models_server.log", "ab") as out:
            server = subprocess.Popen(
                [sys.executable, "-m", "bot.models_server", "--port", str(port)]
                + ["--model-file", str(published)],
                cwd=PROJECT_ROOT,
                env=child_env(env),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        stack = None
        try:
            wait_http(f"http://127.0.0.1:{port}/status", timeout=30, proc=server)
            credentials = work / "rest.yml"
            credentials.write_text("rest:\n")
            stack = start_stack(DEFAULT_MODEL, env=env, log_dir=work, credentials=credentials)
            first = publish(DEFAULT_MODEL, published)
            wait_rolled_out(model_url, "", first, timeout=60)
            rasa_pid = stack.processes["rasa"].pid
            for _ in range(3):  # a few turns, so the baseline has served texts too
                menu(stack.url, "+15550000000")
            before = proc_stats(rasa_pid)
            status_s: List[float] = []
            answer_s: List[float] = []
            for round_ in range(1, args.rounds + 1):
                new = f"Reloaded {round_}! I can: check an order"
                variant = reworded_model(
                    DEFAULT_MODEL, work / f"v{round_}.tar.gz", "utter_menu", OLD, new
                )
                started = time.monotonic()
                etag = publish(variant, published)
                sent = 0
                rollout = None
                while True:
                    sent += 1
                    reply = menu(stack.url, f"+1555{round_:03d}{sent:04d}")
                    assert "I can:" in reply, reply  # answered, by one model or the other
                    if rollout is None:
                        status = wait_rolled_out(model_url, "", etag, timeout=0)
                        if not status.behind and status.servers:
                            rollout = time.monotonic() - started
                    if reply.startswith(new):
                        answer_s.append(time.monotonic() - started)
                        status_s.append(rollout or answer_s[-1])
                        break
                    assert time.monotonic() - started < 120, "not reloaded in 120 s"
                    time.sleep(0.2)
                print(
                    f"round {round_}: status {status_s[-1]:.1f} s, answer {answer_s[-1]:.1f} s,"
                    f" {sent} texts answered meanwhile"
                )
            loads = [
                line.rsplit(" in ", 1)[1]
                for line in (work / "rasa.log").read_text(errors="replace").splitlines()
                if "Loaded model" in line
            ]
            print(
                f"pull every {args.pull:g} s: published -> answering with it: median "
                f"{statistics.median(answer_s):.1f} s, max {max(answer_s):.1f} s; "
                f"model load in the server: {', '.join(loads)}"
            )
            after = proc_stats(rasa_pid)
            print(
                f"Rasa server memory: peak before reloads {before.hwm_mb:.0f} MB (RSS "
                f"{before.rss_mb:.0f} MB), peak across {args.rounds} reloads "
                f"{after.hwm_mb:.0f} MB, RSS after {after.rss_mb:.0f} MB; "
                f"peak ratio {after.hwm_mb / before.hwm_mb:.2f}x, "
                f"RSS after/before {after.rss_mb / before.rss_mb:.2f}x"
            )
        finally:
            if stack is not None:
                stack.stop()
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
