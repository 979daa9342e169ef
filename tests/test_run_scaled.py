"""`make run-scaled` end to end: every role's pid file and health, one text through the
Plivo stand-in and back, and nothing left running after Ctrl-C.

On a fresh PostgreSQL database, a unique Redis key prefix, free ports and a temporary
run folder (a copy of deploy/scaled.env with those values, passed as SCALED_ENV).
RUN_SCALED_PROCFILE runs another Procfile the same way (e.g. a local variant).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.launcher import child_env, free_port
from bot.settings import PROJECT_ROOT
from tests.conftest import POSTGRES_ADMIN_URL
from tests.scaled_topology import PROCESS_PORTS, process_env, write_env_file

PROCFILE = os.environ.get("RUN_SCALED_PROCFILE", "deploy/Procfile")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.skipif(
        PROCFILE == "deploy/Procfile" and not (PROJECT_ROOT / "bot/sms/worker.py").exists(),
        reason="deploy/Procfile runs bot.sms.worker and bot.sms.receiver, which this branch "
        "does not have yet (they come with the SMS queue rewrite)",
    ),
]

START_SECONDS = 240.0  # two Rasa servers loading the model on two shared cores


def roles(procfile: Path) -> List[Tuple[str, int]]:
    """(role, index) of every `python -m bot.pidfile ROLE INDEX` line."""
    return [
        (m.group(1), int(m.group(2)))
        for m in re.finditer(r"bot\.pidfile (\w+) (\d+)", procfile.read_text())
    ]


def get(url: str) -> Tuple[int, bytes]:
    """Status and body of a GET (0 if nothing answers)."""
    try:
        with urllib.request.urlopen(url, timeout=3) as answer:
            return answer.status, answer.read()
    except OSError:
        return 0, b""


def alive(pid: int) -> bool:
    """Whether a process with this pid exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def scaled_env(tmp_path: Path) -> Iterator[Dict[str, str]]:
    """An env file for a private topology; the database is dropped afterwards."""
    name = f"sms_bot_scaled_test_{uuid.uuid4().hex[:8]}"
    db_url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(False)
    ports = {key: free_port() for key in PROCESS_PORTS}
    values = {
        "DATABASE_URL": db_url,
        "TRACKER_DATABASE_URL": db_url,
        "REDIS_KEY_PREFIX": f"smsbottest{uuid.uuid4().hex[:8]}",
        **process_env(ports, tmp_path / "run"),
    }
    env_file = tmp_path / "scaled.env"
    write_env_file(PROJECT_ROOT / "deploy/scaled.env", env_file, values)
    yield {
        "file": str(env_file),
        "run": str(tmp_path / "run"),
        "database": name,
        **{f"port_{key}": str(port) for key, port in ports.items()},
    }
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
            {"n": name},
        )
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def test_run_scaled_answers_a_text_and_stops_cleanly(
    scaled_env: Dict[str, str], tmp_path: Path
) -> None:
    standin = f"http://127.0.0.1:{scaled_env['port_si']}"
    receiver = f"http://127.0.0.1:{scaled_env['port_receiver']}"
    env = child_env(
        {
            "SCALED_ENV": scaled_env["file"],
            "PLIVO_API_URL": standin,
            "BOT_PUBLIC_URL": receiver,
        }
    )
    honcho_args = f"-f {PROCFILE} -e {scaled_env['file']} -d ."
    log_path = tmp_path / "run-scaled.log"
    with open(log_path, "wb") as log:
        make = subprocess.Popen(
            ["make", "run-scaled", f"HONCHO_ARGS={honcho_args}"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: Ctrl-C goes to all of it
        )
    run = Path(scaled_env["run"])
    expected = roles(PROJECT_ROOT / PROCFILE)
    health = {
        "rasa": lambda n: f"http://127.0.0.1:{scaled_env[f'port_rasa{n}']}/",
        "actions": lambda n: f"http://127.0.0.1:{scaled_env['port_actions']}/health",
        "receiver": lambda n: f"{receiver}/health",
        "desk": lambda n: f"http://127.0.0.1:{scaled_env['port_desk']}/health",
        "standin": lambda n: f"{standin}/_standin/messages",
    }
    pids: Dict[str, int] = {}
    try:
        deadline = time.monotonic() + START_SECONDS
        waiting = list(expected)
        while waiting:
            assert make.poll() is None, f"make run-scaled exited:\n{log_path.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"not up: {waiting}\n{log_path.read_text()[-3000:]}"
            for role, n in list(waiting):
                path = run / f"{role}-{n}.pid"
                if not path.exists():
                    continue
                pid = int(path.read_text())
                if role in health and get(health[role](n))[0] != 200:
                    continue
                pids[f"{role}-{n}"] = pid
                waiting.remove((role, n))
            time.sleep(1)

        sent = urllib.request.Request(
            f"{standin}/_standin/inbound",
            data=json.dumps({"from": "+15005550001", "text": "where is my order"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(sent, timeout=10) as answer:
            assert answer.status == 200
        reply = ""
        for _ in range(60):
            status, body = get(f"{standin}/_standin/messages?to=%2B15005550001")
            messages = json.loads(body)["messages"] if status == 200 else []
            if messages:
                reply = messages[0]["text"]
                break
            time.sleep(0.5)
        assert "A1001" in reply, reply
        status, body = get(f"{receiver}/metrics")
        assert status == 200 and b"sms_inbound_queue_depth" in body
    finally:
        os.killpg(make.pid, signal.SIGINT)
        try:
            make.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(make.pid, signal.SIGKILL)
            make.wait()
    left = [name for name, pid in pids.items() if alive(pid)]
    assert not left, f"still running after Ctrl-C: {left}"
    assert not list(run.glob("*.pid")), "pid files left after a clean stop"
