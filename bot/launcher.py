"""Start and stop the Rasa server, the action server and the SMS gateway as child processes.

Used by `python -m bot run`, the end-to-end tests and the benchmarks, so all three run
the servers exactly the same way.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Set

from bot import cpus
from bot.settings import PROJECT_ROOT

RASA = str(Path(sys.executable).with_name("rasa"))
# The Rasa server: `rasa` with bot.rasa_ext.speedups installed at start-up.
RASA_SERVER = [sys.executable, "-m", "bot.rasa_ext.server"]
DEFAULT_MODEL = PROJECT_ROOT / "models" / "sms-bot.tar.gz"


def child_pids(pid: int) -> List[int]:
    """Direct children of a process (Linux /proc)."""
    pids: List[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            pids.extend(int(p) for p in (task / "children").read_text().split())
        except OSError:
            continue
    return pids


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, timeout: float = 120.0, proc: Optional[subprocess.Popen] = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} was up")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.25)
    raise TimeoutError(f"{url} not up after {timeout}s")


def child_env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    env.update(extra or {})
    return env


@dataclass
class RasaStack:
    """A running action server + Rasa server pair (+ the SMS gateway, if asked for)."""

    rasa_port: int
    action_port: int
    gateway_port: Optional[int] = None
    processes: Dict[str, subprocess.Popen] = field(default_factory=dict)
    workdir: Optional[tempfile.TemporaryDirectory] = None
    spawners: Dict[str, Callable[[], subprocess.Popen]] = field(default_factory=dict)

    def kill(self, name: str) -> None:
        """SIGKILL one process and its children (no clean shutdown), leaving the others."""
        proc = self.processes[name]
        for child in child_pids(proc.pid):
            try:
                os.kill(child, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.kill()
        proc.wait()

    def restart(self, name: str) -> subprocess.Popen:
        """Start one process again, the same way (the caller waits until it answers)."""
        proc = self.spawners[name]()
        self.processes[name] = proc
        return proc

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def gateway_url(self) -> Optional[str]:
        return f"http://127.0.0.1:{self.gateway_port}" if self.gateway_port else None

    def stop(self) -> None:
        for proc in reversed(list(self.processes.values())):
            if proc.poll() is None:
                proc.terminate()
        for proc in self.processes.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self.workdir is not None:
            self.workdir.cleanup()

    def __enter__(self) -> "RasaStack":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


IN_MEMORY_LOCKS = "  type: in_memory"


def redis_locks(prefix: str, host: str = "127.0.0.1", port: int = 6379) -> str:
    """The production lock store (several Rasa workers), as endpoints.yml lines."""
    return f"  type: redis\n  url: {host}\n  port: {port}\n  db: 1\n  key_prefix: {prefix}"


def endpoints_yaml(action_port: int, tracker_store: str, lock_store: str = IN_MEMORY_LOCKS) -> str:
    return (
        f'action_endpoint:\n  url: "http://127.0.0.1:{action_port}/webhook"\n'
        f"tracker_store:\n{tracker_store}\n"
        f"lock_store:\n{lock_store}\n"
    )


BOT_TRACKER_STORE = "  type: bot.rasa_ext.tracker_store.BotSQLTrackerStore"


def gateway_command(port: int, rasa_url: str) -> List[str]:
    return [sys.executable, "-m", "bot.sms.gateway", "--port", str(port), "--rasa-url", rasa_url]


def start_stack(
    model: Path = DEFAULT_MODEL,
    env: Optional[Dict[str, str]] = None,
    rasa_port: Optional[int] = None,
    action_port: Optional[int] = None,
    tracker_store: str = BOT_TRACKER_STORE,
    lock_store: str = IN_MEMORY_LOCKS,
    credentials: Path = PROJECT_ROOT / "credentials.yml",
    extra_rasa_args: Optional[List[str]] = None,
    log_dir: Optional[Path] = None,
    actions_package: Optional[str] = "actions",
    gateway_port: Optional[int] = None,
    assistant_cpus: Optional[Set[int]] = None,
    speedups: bool = True,
) -> RasaStack:
    """Start the servers and wait until they answer; the caller must stop() them.

    With `gateway_port`, the SMS gateway receives Plivo's webhooks on that port and the
    Rasa server runs with SMS_FRONT_DOOR=gateway. With `assistant_cpus`, the Rasa server
    runs on those CPUs and the other servers on the rest (bot/cpus.py). `speedups=False`
    starts a plain `rasa run` (a stock bot to compare with), without this project's patches.
    """
    stack = RasaStack(rasa_port or free_port(), action_port or free_port(), gateway_port)
    stack.workdir = tempfile.TemporaryDirectory(prefix="rasa-stack-")
    work = Path(stack.workdir.name)
    endpoints = work / "endpoints.yml"
    endpoints.write_text(endpoints_yaml(stack.action_port, tracker_store, lock_store))
    environment = child_env(env)
    if gateway_port:
        environment["SMS_FRONT_DOOR"] = "gateway"
    logs = log_dir or work

    # None when nothing is left for them (a caller already pinned): they then run anywhere
    others = None if assistant_cpus is None else (cpus.available() - assistant_cpus) or None

    def spawn(name: str, args: List[str]) -> subprocess.Popen:
        pinned = cpus.pin_before_exec(assistant_cpus if name == "rasa" else others)

        def start() -> subprocess.Popen:
            with open(logs / f"{name}.log", "ab") as out:  # the child keeps its own copy
                return subprocess.Popen(
                    args,
                    cwd=PROJECT_ROOT,
                    env=environment,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    preexec_fn=pinned,
                )

        stack.spawners[name] = start
        return start()

    try:
        if actions_package:
            actions = spawn(
                "actions",
                [
                    RASA,
                    "run",
                    "actions",
                    "--actions",
                    actions_package,
                    "--port",
                    str(stack.action_port),
                ],
            )
            stack.processes["actions"] = actions
        server = spawn(
            "rasa",
            [
                *(RASA_SERVER if speedups else [RASA]),
                "run",
                "--model",
                str(model),
                "--port",
                str(stack.rasa_port),
                "--credentials",
                str(credentials),
                "--endpoints",
                str(endpoints),
                *(extra_rasa_args or []),
            ],
        )
        stack.processes["rasa"] = server
        if gateway_port:
            stack.processes["gateway"] = spawn("gateway", gateway_command(gateway_port, stack.url))
        if actions_package:
            wait_http(f"http://127.0.0.1:{stack.action_port}/health", proc=actions)
        wait_http(f"{stack.url}/", proc=server)
        wait_http(f"{stack.url}/webhooks/rest/", proc=server)
        if gateway_port:
            wait_http(f"{stack.gateway_url}/webhooks/plivo/", proc=stack.processes["gateway"])
    except BaseException:
        stack.stop()
        raise
    return stack
