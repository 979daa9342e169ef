"""bot/pidfile.py: `var/run/<role>-<n>.pid` holds the server's own pid and goes on a clean exit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot import pidfile
from bot.launcher import child_env
from bot.settings import PROJECT_ROOT

SLEEPER = "import time\nprint('ready', flush=True)\ntime.sleep(60)\n"


def test_path_names_role_and_index(tmp_path: Path) -> None:
    assert pidfile.pidfile_path("worker", 2, tmp_path) == tmp_path / "worker-2.pid"
    for role, index in (("Worker", 1), ("../x", 1), ("rasa", 0)):
        with pytest.raises(ValueError):
            pidfile.pidfile_path(role, index, tmp_path)


def test_remove_only_our_own_file(tmp_path: Path) -> None:
    path = tmp_path / "rasa-1.pid"
    path.write_text("999999\n")  # a newer process of the role wrote it
    assert not pidfile.remove_pidfile(path)
    assert path.exists()
    path.write_text(f"{os.getpid()}\n")
    assert pidfile.remove_pidfile(path)
    assert not path.exists()
    assert not pidfile.remove_pidfile(path)


def _start(tmp_path: Path, *args: str) -> subprocess.Popen:
    (tmp_path / "sleeper_mod.py").write_text(SLEEPER)
    env = child_env({"PIDFILE_DIR": str(tmp_path / "run")})
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), env["PYTHONPATH"]])
    return subprocess.Popen(
        [sys.executable, "-m", "bot.pidfile", *args],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_wrapper_writes_the_servers_pid_and_removes_it(tmp_path: Path, stop: int) -> None:
    with _start(tmp_path, "worker", "2", "sleeper_mod") as proc:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        path = tmp_path / "run" / "worker-2.pid"
        assert path.read_text().strip() == str(proc.pid)  # the module runs in this process
        proc.send_signal(stop)
        proc.wait(timeout=30)  # a loaded 2-core box has taken over 10 s to exit
        assert not path.exists()


def test_wrapper_refuses_bad_arguments(tmp_path: Path) -> None:
    for args in (("worker", "x", "sleeper_mod"), ("Bad", "1", "sleeper_mod"), ("worker",)):
        with _start(tmp_path, *args) as proc:
            assert proc.wait(timeout=10) != 0
    assert not (tmp_path / "run").exists() or not list((tmp_path / "run").iterdir())
