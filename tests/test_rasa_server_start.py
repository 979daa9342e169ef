"""The Rasa server command fails loudly when it cannot serve: Sanic logs a failed bind and
returns normally, and so would `rasa run`; ours exits 1."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from bot.launcher import child_env, free_port
from bot.settings import PROJECT_ROOT


def test_a_port_in_use_makes_the_server_exit_non_zero(trained_model: Path, tmp_path: Path) -> None:
    credentials = tmp_path / "credentials.yml"
    credentials.write_text("rest:\n")
    database = tmp_path / "not-yet" / "bot.db"  # a clean checkout has no var/ folder
    env = child_env({"DATABASE_URL": f"sqlite:///{database}"})
    env.pop("TRACKER_DATABASE_URL", None)
    port = free_port()
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 0)
        taken.bind(("0.0.0.0", port))
        taken.listen()
        result = subprocess.run(
            [sys.executable, "-m", "bot.rasa_ext.server", "run", "--model", str(trained_model)]
            + [
                "--port",
                str(port),
                "--endpoints",
                "endpoints.yml",
                "--credentials",
                str(credentials),
            ],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
    assert "could not start serving" in result.stderr, result.stderr[-3000:]
    assert "Cannot connect to tracker store" not in result.stderr
    assert database.parent.is_dir()
