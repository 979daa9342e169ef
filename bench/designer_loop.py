"""How long a designer waits: retrain after a one-line story edit; a new FAQ answer live.

Usage: .venv/bin/python -m bench.designer_loop [--cache .rasa/cache]

In a copy of the project (own Rasa cache, code linked), in one run:
1. a full `rasa train` from an empty cache (the baseline); with --cache, the copy starts
   from a copy of that trained cache instead and the full train is skipped;
2. one-line story edits, each followed by a retrain, alternating `make train`'s command
   (`python -m bot.rasa_ext.train train --skip-validation`: bot/rasa_ext/train_speedups.py)
   and a bare `rasa train --skip-validation` (before the speed-ups), twice each, then once
   with Rasa's validation (what `make train` ran before that); each must restore all NLU
   components from the cache and train only the policies;
3. an FAQ answer edit: `rasa train --dry-run` must say nothing needs training, and a running
   action server answers the new wording (time from the file write to the first new answer).
Prints each time and its ratio to the full train. Target: story edit <= 15 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Dict, List, Tuple

from bot.launcher import child_env, free_port
from bot.settings import PROJECT_ROOT

COPIED = ("data", "domain.yml", "config.yml")
LINKED = ("actions", "bot", "channels", "bench", "credentials.yml", "endpoints.yml")
TRAIN = [sys.executable, "-m", "rasa", "train", "--fixed-model-name", "sms-bot", "--out", "models"]
MAKE_TRAIN = [sys.executable, "-m", "bot.rasa_ext.train", *TRAIN[3:], "--skip-validation"]
NLU_COMPONENTS = 8  # config.yml's trained NLU pipeline nodes Rasa restores from its cache
STORY_NAME = "  - story: order question followed by a person"
OLD_WIFI = "password is on your key card sleeve."


def make_copy(root: Path) -> None:
    for name in COPIED:
        source = PROJECT_ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name)
        else:
            shutil.copy(source, root / name)
    for name in LINKED:
        (root / name).symlink_to(PROJECT_ROOT / name)


def timed(command: List[str], cwd: Path) -> Tuple[float, float, str]:
    """(wall seconds, CPU seconds of the child, output)."""
    before = os.times()
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=child_env(), capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    if result.returncode not in (0, 1):
        raise RuntimeError(result.stdout[-3000:] + result.stderr[-3000:])
    return wall, cpu, result.stdout + result.stderr


def edit_story(root: Path, mark: str) -> None:
    path = root / "data" / "stories" / "conversations.yml"
    text = path.read_text()
    path.write_text(text.replace(STORY_NAME, f"{STORY_NAME} {mark}", 1))


def ask_faq(port: int) -> str:
    """The action server's answer to action_answer_faq for the wifi topic."""
    body = {
        "next_action": "action_answer_faq",
        "sender_id": "bench",
        "tracker": {
            "sender_id": "bench",
            "slots": {},
            "latest_message": {
                "text": "wifi?",
                "intent": {"name": "faq"},
                "entities": [{"entity": "faq_topic", "value": "wifi"}],
            },
            "events": [],
            "active_loop": {},
        },
        "domain": {"responses": {}},
        "version": "3.6.2",
    }
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/webhook",
        json.dumps(body).encode(),
        {"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["responses"][0]["text"]


def faq_answer_live_seconds(root: Path) -> float:
    """Edit the wifi answer; seconds until the running action server answers it."""
    port = free_port()
    answers = root / "data" / "faq_answers.yml"
    env = child_env({"FAQ_ANSWERS_FILE": str(answers)})
    server = subprocess.Popen(
        [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                assert OLD_WIFI in ask_faq(port)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        answers.write_text(answers.read_text().replace(OLD_WIFI, "ask the desk (bench)."))
        started = time.perf_counter()
        while "ask the desk (bench)." not in ask_faq(port):
            time.sleep(0.05)
        return time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)


def restored_and_trained(output: str) -> Tuple[int, List[str]]:
    """How many components Rasa restored from its cache, and which ones it trained."""
    restored = output.count("from cache.")
    trained = [
        line.split("Starting to train component '")[1].split("'")[0]
        for line in output.splitlines()
        if "Starting to train component '" in line
    ]
    return restored, trained


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, help="start from a copy of this trained cache")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="designer-loop-") as tmp:
        root = Path(tmp)
        make_copy(root)
        load = os.getloadavg()[0]
        if args.cache:
            shutil.copytree(args.cache, root / ".rasa" / "cache")
            full = float("nan")
            print(f"full train skipped: the copy starts from {args.cache}")
        else:
            full, full_cpu, _ = timed(TRAIN, root)
            print(f"full train (empty cache):          {full:6.1f} s wall, {full_cpu:6.1f} s CPU")
        seconds: Dict[str, List[Tuple[float, float]]] = {}
        for number, (label, command) in enumerate(
            (
                ("story edit, make train", MAKE_TRAIN),
                ("story edit, bare rasa train", TRAIN + ["--skip-validation"]),
                ("story edit, make train", MAKE_TRAIN),
                ("story edit, bare rasa train", TRAIN + ["--skip-validation"]),
                ("story edit, with Rasa validation", TRAIN),
            ),
            start=1,
        ):
            edit_story(root, f"(bench {number})")
            wall, cpu, out = timed(command, root)
            restored, trained = restored_and_trained(out)
            seconds.setdefault(label, []).append((wall, cpu))
            ratio = "" if args.cache else f" ({wall / full:.2f}x the full train)"
            print(
                f"{label + ':':<35}{wall:6.1f} s wall, {cpu:6.1f} s CPU{ratio}; "
                f"restored {restored}, trained {', '.join(trained)}"
            )
            if restored < NLU_COMPONENTS or set(trained) - {"MemoizationPolicy", "RulePolicy"}:
                print(f"  NOT A CACHED RETRAIN:\n{out[-3000:]}")
                return 1
        ours = seconds["story edit, make train"]
        bare = seconds["story edit, bare rasa train"]
        print(
            f"story edit, make train / bare rasa train: "
            f"{sum(c for _, c in ours) / sum(c for _, c in bare):.2f}x CPU, "
            f"{sum(w for w, _ in ours) / sum(w for w, _ in bare):.2f}x wall; "
            f"slowest make train {max(w for w, _ in ours):.1f} s (target <= 15 s)"
        )
        answers = root / "data" / "faq_answers.yml"
        answers.write_text(answers.read_text().replace("Street parking", "Street parking (b)"))
        _, _, out = timed(TRAIN + ["--skip-validation", "--dry-run"], root)
        no_retrain = "No training of components required" in out
        print(f"FAQ answer edit needs retraining:   {'no' if no_retrain else 'YES'}")
        live = faq_answer_live_seconds(root)
        ratio = "" if args.cache else f" ({live / full:.3f}x the full train)"
        print(f"FAQ answer edit live in:            {live:6.2f} s{ratio}")
        print(f"load average at start: {load:.1f} (2 cores, shared)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
