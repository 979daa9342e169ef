"""A desk server (`python -m bot.desk`) in a subprocess, for tests."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Optional

from bot.launcher import child_env, free_port, wait_http
from bot.settings import PROJECT_ROOT


@dataclass
class DeskServer:
    database_url: str
    log_dir: Path
    maintenance: bool = False
    extra_env: Dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    proc: Optional[subprocess.Popen] = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"desk-{self.port}.log"

    def start(self) -> "DeskServer":
        args = [sys.executable, "-m", "bot.desk", "--port", str(self.port)]
        if not self.maintenance:
            args.append("--no-maintenance")
        env = child_env({"DATABASE_URL": self.database_url, **self.extra_env})
        with open(self.log_path, "ab") as out:
            self.proc = subprocess.Popen(
                args, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        wait_http(f"{self.url}/login", timeout=30, proc=self.proc)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
