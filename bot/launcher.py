"""Start and stop the Rasa server, the action server and the SMS receiver and workers as
child processes.

Used by the end-to-end tests and the benchmarks, so they run the servers the way
`make run` does: receiver + worker(s) + Rasa server(s) + action server.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

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


# Below Linux's ephemeral range (32768-60999): a port the kernel hands out to outgoing
# connections can be taken in the seconds between choosing it and a server binding it
# (Rasa binds only after loading its model).
PORT_RANGE = (20000, 32000)
_handed_out: set = set()  # never the same port twice from one process


def free_port() -> int:
    """A port free on loopback and on all interfaces now, outside the ephemeral range."""
    for _ in range(200):
        port = random.randrange(*PORT_RANGE)
        if port in _handed_out:
            continue
        try:
            for host in ("127.0.0.1", "0.0.0.0"):
                with socket.socket() as sock:
                    sock.bind((host, port))
        except OSError:
            continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free port in {PORT_RANGE}")


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
    """A running action server + Rasa server(s) (+ the SMS receiver and workers, if asked)."""

    rasa_port: int
    action_port: int
    receiver_port: Optional[int] = None
    extra_rasa_ports: List[int] = field(default_factory=list)
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
    def receiver_url(self) -> Optional[str]:
        return f"http://127.0.0.1:{self.receiver_port}" if self.receiver_port else None

    @property
    def rasa_urls(self) -> List[str]:
        return [self.url] + [f"http://127.0.0.1:{port}" for port in self.extra_rasa_ports]

    def workers(self) -> List[str]:
        """Names of the worker processes (worker-1, worker-2 ...)."""
        return [name for name in self.processes if name.startswith("worker-")]

    def stop(self) -> None:
        """The SMS receiver and workers first (a worker finishes its turns while the
        assistant and the action server still answer), then the rest."""
        sms = [n for n in self.processes if n == "receiver" or n.startswith("worker-")]
        others = [n for n in self.processes if n not in sms]
        for group in (sms, others):
            procs = [self.processes[name] for name in group]
            for proc in reversed(procs):
                if proc.poll() is None:
                    proc.terminate()
            for proc in procs:
                try:
                    proc.wait(timeout=25)
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


def receiver_command(port: int) -> List[str]:
    return [sys.executable, "-m", "bot.sms.receiver", "--port", str(port)]


def worker_command(rasa_urls: Sequence[str], concurrency: Optional[int] = None) -> List[str]:
    command = [sys.executable, "-m", "bot.sms.worker"]
    for url in rasa_urls:
        command += ["--rasa-url", url]
    if concurrency:
        command += ["--concurrency", str(concurrency)]
    return command


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
    receiver_port: Optional[int] = None,
    workers: int = 1,
    worker_concurrency: Optional[int] = None,
    rasa_servers: int = 1,
    speedups: bool = True,
    process_env: Optional[Dict[str, Dict[str, str]]] = None,
    assistant: bool = True,
    startup_timeout: float = 120.0,
) -> RasaStack:
    """Start the servers and wait until they answer; the caller must stop() them.

    With `receiver_port`, the SMS receiver takes Plivo's webhooks on that port and
    `workers` worker processes answer them, asking every Rasa server (`rasa_servers`, the
    first on `rasa_port`). `speedups=False` starts a plain `rasa run` (a stock bot to
    compare with), without this project's patches. `process_env` adds variables for
    the processes whose name starts with a key ("worker" for every worker).
    `assistant=False` starts no Rasa or action server (the workers' Rasa URLs answer
    nothing): for what needs only the SMS side, e.g. outbound texts. `startup_timeout`:
    seconds each server may take to answer (loading a model is slow on a busy machine).
    """
    stack = RasaStack(rasa_port or free_port(), action_port or free_port(), receiver_port)
    stack.extra_rasa_ports = [free_port() for _ in range(rasa_servers - 1)]
    stack.workdir = tempfile.TemporaryDirectory(prefix="rasa-stack-")
    work = Path(stack.workdir.name)
    endpoints = work / "endpoints.yml"
    endpoints.write_text(endpoints_yaml(stack.action_port, tracker_store, lock_store))
    environment = child_env(env)
    logs = log_dir or work

    def spawn(name: str, args: List[str]) -> subprocess.Popen:
        own = dict(environment)
        for prefix, extra in (process_env or {}).items():
            if name.startswith(prefix):
                own.update(extra)

        def start() -> subprocess.Popen:
            with open(logs / f"{name}.log", "ab") as out:  # the child keeps its own copy
                return subprocess.Popen(
                    args,
                    cwd=PROJECT_ROOT,
                    env=own,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )

        stack.spawners[name] = start
        return start()

    try:
        if not assistant:
            actions_package = None
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
        servers = {}
        ports = [stack.rasa_port, *stack.extra_rasa_ports] if assistant else []
        for index, port in enumerate(ports):
            name = "rasa" if index == 0 else f"rasa-{index + 1}"
            servers[name] = stack.processes[name] = spawn(
                name,
                [
                    *(RASA_SERVER if speedups else [RASA]),
                    "run",
                    "--model",
                    str(model),
                    "--port",
                    str(port),
                    "--credentials",
                    str(credentials),
                    "--endpoints",
                    str(endpoints),
                    *(extra_rasa_args or []),
                ],
            )
        if receiver_port:
            stack.processes["receiver"] = spawn("receiver", receiver_command(receiver_port))
            for number in range(1, workers + 1):
                name = f"worker-{number}"
                command = worker_command(stack.rasa_urls, worker_concurrency)
                stack.processes[name] = spawn(name, command)
        if actions_package:
            wait_http(f"http://127.0.0.1:{stack.action_port}/health", proc=actions)
        for name, server in servers.items():
            url = stack.rasa_urls[list(servers).index(name)]
            wait_http(f"{url}/", startup_timeout, proc=server)
            wait_http(f"{url}/webhooks/rest/", startup_timeout, proc=server)
        if receiver_port:
            wait_http(f"{stack.receiver_url}/webhooks/plivo/", proc=stack.processes["receiver"])
    except BaseException:
        stack.stop()
        raise
    return stack
