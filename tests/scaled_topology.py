"""The production ("scaled") topology, started for fault tests: deploy/Procfile's commands,
each as its own process, on a private PostgreSQL and a private Redis.

What is tested is what is deployed: every `name: exec python -m bot.pidfile ROLE N ...`
line of the Procfile runs as written (through /bin/sh, as honcho runs it), with the
variables of an env file derived from deploy/scaled.env (free ports, a temporary run
folder, a unique Redis key prefix; as tests/test_run_scaled.py does). Unlike honcho,
which stops everything when one process exits, one process can be killed (SIGKILL to its
process group) and started again as systemd's Restart= would. `python -m bot.scaled_setup`
runs first (creates, migrates and seeds the database), as `make run-scaled` does.

The database server (tests/pg_statements.PrivatePostgres) and redis-server are private
and started here, so a test may stop or restart them; the machine's shared ones are never
touched. The customer side is tests/sms_harness.SmsSetup's: signed_webhook, text, sent,
wait_replies, ask, fail.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
import uuid as uuidlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import quote, urlencode

from bot.launcher import child_env, free_port
from bot.settings import PROJECT_ROOT
from devtools.plivo_standin.signing import sign_request
from tests.pg_statements import PrivatePostgres
from tests.sms_harness import http_json, post_form

PROCFILE = PROJECT_ROOT / "deploy/Procfile"
SCALED_ENV = PROJECT_ROOT / "deploy/scaled.env"
VENV_BIN = PROJECT_ROOT / ".venv/bin"
# The Makefile's local stand-in credentials (not secrets).
PLIVO_ENV = {
    "PLIVO_AUTH_ID": "MADEVSTANDIN00000000",
    "PLIVO_AUTH_TOKEN": "local-dev-token",
    "PLIVO_NUMBER": "+15005550100",
}
SHORT_RETRIES = {"OUTBOX_RETRY_BASE_SECONDS": "1", "OUTBOX_RETRY_CAP_SECONDS": "4"}
START_SECONDS = 300.0  # two Rasa servers loading the model at once on two noisy cores
RESTART_SECONDS = 240.0
_LINE = re.compile(r"^(?P<name>[A-Za-z0-9_]+):\s*(?P<command>.+)$")
_ROLE = re.compile(r"bot\.pidfile (?P<role>\w+) (?P<index>\d+)")


def procfile_commands(path: Path = PROCFILE) -> Dict[str, str]:
    """{process name: shell command} of a Procfile (comments and blank lines skipped)."""
    commands = {}
    for line in path.read_text().splitlines():
        match = _LINE.match(line.strip())
        if match and not line.lstrip().startswith("#"):
            commands[match.group("name")] = match.group("command")
    return commands


def read_env_file(path: Path) -> Dict[str, str]:
    """KEY=VALUE lines (deploy/scaled.env's format: no quotes, no expansion)."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values


PROCESS_PORTS = ("rasa1", "rasa2", "actions", "receiver", "desk", "si", "models")


def process_env(ports: Dict[str, int], run: Path) -> Dict[str, str]:
    """deploy/scaled.env's values for the processes' ports (keys rasa1, rasa2, actions,
    receiver, desk, si, models) and a run folder (pid files, metrics, the published model)."""
    return {
        "RASA_PORT_1": str(ports["rasa1"]),
        "RASA_PORT_2": str(ports["rasa2"]),
        "RASA_URL_1": f"http://127.0.0.1:{ports['rasa1']}",
        "RASA_URL_2": f"http://127.0.0.1:{ports['rasa2']}",
        "ACTIONS_PORT": str(ports["actions"]),
        "ACTION_SERVER_URL": f"http://127.0.0.1:{ports['actions']}/webhook",
        "RECEIVER_PORT": str(ports["receiver"]),
        "DESK_PORT": str(ports["desk"]),
        "STANDIN_PORT": str(ports["si"]),
        "MODEL_SERVER_PORT": str(ports["models"]),
        "MODEL_SERVER_URL": f"http://127.0.0.1:{ports['models']}/model",
        "MODEL_PUBLISH_FILE": str(run / "published-model.tar.gz"),
        "PIDFILE_DIR": str(run),
        "PROMETHEUS_MULTIPROC_DIR": str(run / "prometheus"),
    }


def write_env_file(source: Path, target: Path, overrides: Dict[str, str]) -> None:
    """A copy of `source` with these keys' values replaced (or appended)."""
    left = dict(overrides)
    lines = []
    for line in source.read_text().splitlines():
        key = line.split("=", 1)[0].strip()
        lines.append(f"{key}={left.pop(key)}" if "=" in line and key in left else line)
    lines += [f"{key}={value}" for key, value in left.items()]
    target.write_text("\n".join(lines) + "\n")


def get(url: str, timeout: float = 3) -> Tuple[int, bytes]:
    """Status and body of a GET (0 if nothing answers)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return 0, b""


@dataclass
class PrivateRedis:
    """redis-server on a free loopback port, no persistence; stop/start keep the port."""

    workdir: Path
    port: int = field(default_factory=free_port)
    proc: Optional[subprocess.Popen] = None

    def start(self, timeout: float = 20) -> "PrivateRedis":
        log = open(self.workdir / "redis.log", "ab")
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while not self.ping():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server on {self.port} did not start")
            time.sleep(0.1)
        return self

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_timeout=1).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        """Gone at once (SIGKILL): clients see refused connections."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None


@dataclass
class Process:
    """One Procfile line: its command, log file and current process."""

    name: str
    command: str
    log: Path
    proc: Optional[subprocess.Popen] = None

    @property
    def role(self) -> Optional[Tuple[str, int]]:
        """(role, index) of its bot.pidfile wrapper, if any."""
        match = _ROLE.search(self.command)
        return (match.group("role"), int(match.group("index"))) if match else None


@dataclass
class ScaledTopology:
    """deploy/Procfile's processes on private PostgreSQL and Redis (see the module doc)."""

    workdir: Path
    procfile: Path = PROCFILE
    extra_env: Dict[str, str] = field(default_factory=dict)
    postgres: PrivatePostgres = field(default_factory=lambda: PrivatePostgres(log_statements=False))
    redis: Optional[PrivateRedis] = None
    env: Dict[str, str] = field(default_factory=dict)
    processes: Dict[str, Process] = field(default_factory=dict)

    # --- set-up -----------------------------------------------------------------------

    def start(self, timeout: float = START_SECONDS) -> "ScaledTopology":
        """Private servers, the env file, scaled_setup, then every Procfile process."""
        self.postgres.start()
        self.redis = PrivateRedis(self.workdir).start()
        self.env = self._environment()
        self._run_setup()
        for name, command in procfile_commands(self.procfile).items():
            self.processes[name] = Process(name, command, self.workdir / f"{name}.log")
        for name in self.processes:
            self.start_process(name)
        self.wait_healthy(list(self.processes), timeout)
        return self

    def _environment(self) -> Dict[str, str]:
        assert self.redis is not None
        ports = {key: free_port() for key in PROCESS_PORTS}
        run = self.workdir / "run"
        database = self.postgres.url("postgres", "sms_bot_scaled")
        overrides = {
            "DATABASE_URL": database,
            "TRACKER_DATABASE_URL": database,
            "REDIS_HOST": "127.0.0.1",
            "REDIS_PORT": str(self.redis.port),
            "REDIS_KEY_PREFIX": f"smsbotfaults{uuidlib.uuid4().hex[:8]}",
            "RASA_MODEL": str(PROJECT_ROOT / "models/sms-bot.tar.gz"),
            **process_env(ports, run),
            # A reply the SMS API refuses is retried at most this many seconds apart
            # (production: 300), so a test's API outage ends in seconds, not minutes.
            **SHORT_RETRIES,
        }
        env_file = self.workdir / "scaled.env"
        write_env_file(SCALED_ENV, env_file, overrides)
        plivo = {
            **PLIVO_ENV,
            "PLIVO_API_URL": f"http://127.0.0.1:{ports['si']}",
            "BOT_PUBLIC_URL": f"http://127.0.0.1:{ports['receiver']}",
        }
        # as honcho: the environment, then the env file's values over it; venv first on PATH
        env = child_env({**plivo, **self.extra_env, **read_env_file(env_file)})
        env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
        return env

    def _run_setup(self) -> None:
        done = subprocess.run(
            ["python", "-m", "bot.scaled_setup"],
            cwd=PROJECT_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, f"bot.scaled_setup failed:\n{done.stdout}\n{done.stderr}"

    # --- processes --------------------------------------------------------------------

    def _process(self, name: str) -> Process:
        """By Procfile name ("rasa1") or role instance ("rasa-1")."""
        key = name.replace("-", "")
        if key not in self.processes:
            raise KeyError(f"no process {name!r} in {self.procfile}: {list(self.processes)}")
        return self.processes[key]

    def start_process(self, name: str) -> subprocess.Popen:
        """Start one Procfile line as honcho would (sh -c, the env, the project folder)."""
        process = self._process(name)
        with open(process.log, "ab") as log:
            log.write(f"\n=== start {time.strftime('%H:%M:%S')} ===\n".encode())
            log.flush()
            process.proc = subprocess.Popen(
                ["/bin/sh", "-c", process.command],
                cwd=PROJECT_ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: killed as one
            )
        return process.proc

    def pid(self, name: str) -> int:
        proc = self._process(name).proc
        assert proc is not None
        return proc.pid

    def kill(self, name: str) -> None:
        """kill -9 of one role instance (its whole process group): no clean shutdown."""
        process = self._process(name)
        assert process.proc is not None, f"{name} is not running"
        try:
            os.killpg(process.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.proc.wait(timeout=30)

    def restart(self, name: str, wait: bool = True, timeout: float = RESTART_SECONDS) -> None:
        """Start a killed (or exited) role instance again, as systemd's Restart= would."""
        process = self._process(name)
        assert process.proc is None or process.proc.poll() is not None, f"{name} still runs"
        since = process.log.stat().st_size if process.log.exists() else 0
        self.start_process(name)
        if wait:
            self.wait_healthy([process.name], timeout, since={process.name: since})

    def alive(self, name: str) -> bool:
        proc = self._process(name).proc
        return proc is not None and proc.poll() is None

    def pidfile_alive(self, name: str) -> bool:
        """Its pid file (bot.pidfile, `<role>-<n>.pid`) names a running process."""
        role = self._process(name).role
        assert role is not None, f"{name} has no pid file"
        path = Path(self.env["PIDFILE_DIR"]) / f"{role[0]}-{role[1]}.pid"
        try:
            os.kill(int(path.read_text()), 0)
        except (OSError, ValueError):
            return False
        return True

    def _healthy(self, process: Process, since: int) -> bool:
        role = process.role
        if role is None:
            return True
        kind = role[0]
        if kind == "rasa":
            port = self.env[f"RASA_PORT_{role[1]}"]
            token = quote(self.env["RASA_AUTH_TOKEN"])
            status, body = get(f"http://127.0.0.1:{port}/status?token={token}")
            return status == 200 and bool(json.loads(body or b"{}").get("model_id"))
        if kind == "worker":  # no port: its start-up line in its own log
            return "SMS worker up" in process.log.read_bytes()[since:].decode("utf-8", "replace")
        url = {
            "actions": f"http://127.0.0.1:{self.env['ACTIONS_PORT']}/health",
            "receiver": f"{self.receiver_url}/webhooks/plivo/",
            "desk": f"http://127.0.0.1:{self.env['DESK_PORT']}/health",
            "standin": f"{self.standin_url}/_standin/messages?to=%2B1",
        }.get(kind)
        return url is None or get(url)[0] == 200

    def wait_healthy(
        self, names: List[str], timeout: float, since: Optional[Dict[str, int]] = None
    ) -> None:
        """Until every named process answers its health check (each must stay alive)."""
        deadline = time.monotonic() + timeout
        waiting = [self._process(name) for name in names]
        while waiting:
            for process in list(waiting):
                assert process.proc is not None and process.proc.poll() is None, (
                    f"{process.name} exited ({process.proc and process.proc.returncode}):\n"
                    + self.log_tail(process.name)
                )
                if self._healthy(process, (since or {}).get(process.name, 0)):
                    waiting.remove(process)
            if waiting:
                assert time.monotonic() < deadline, f"not up after {timeout:.0f} s: " + ", ".join(
                    p.name for p in waiting
                )
                time.sleep(0.5)

    def log_tail(self, name: str, size: int = 3000) -> str:
        log = self._process(name).log
        return log.read_bytes()[-size:].decode("utf-8", "replace") if log.exists() else ""

    def stop(self) -> None:
        """SIGTERM to every process (SIGKILL after 30 s), then the private servers."""
        running = [p.proc for p in self.processes.values() if p.proc and p.proc.poll() is None]
        for proc in running:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 30
        for proc in running:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if self.redis is not None:
            self.redis.stop()
        self.postgres.stop()

    # --- the private database and Redis ------------------------------------------------

    def restart_postgres(self, mode: str = "fast") -> None:
        """pg_ctl restart: every connection of every process is cut."""
        self.postgres.restart(mode)

    def stop_postgres(self, mode: str = "fast") -> None:
        self.postgres.stop_server(mode)

    def start_postgres(self) -> None:
        self.postgres.start_server()

    def stop_redis(self) -> None:
        assert self.redis is not None
        self.redis.stop()

    def start_redis(self) -> None:
        """redis-server again on the same port (empty: locks are short-lived)."""
        assert self.redis is not None
        self.redis.start()

    # --- customer side (as tests/sms_harness.SmsSetup) ---------------------------------

    @property
    def receiver_url(self) -> str:
        return f"http://127.0.0.1:{self.env['RECEIVER_PORT']}"

    @property
    def standin_url(self) -> str:
        return self.env["PLIVO_API_URL"]

    @property
    def webhook_url(self) -> str:
        return f"{self.receiver_url}/webhooks/plivo/webhook"

    def signed_webhook(self, params: Dict[str, str], nonce: Optional[str] = None) -> tuple:
        """(status, body) of a webhook to the receiver, signed like Plivo's."""
        headers = sign_request(self.webhook_url, params, self.env["PLIVO_AUTH_TOKEN"], nonce)
        return post_form(self.webhook_url, urlencode(params).encode(), headers, timeout=15)

    def deliver(self, params: Dict[str, str], timeout: float = 90) -> int:
        """Post a webhook until the receiver acknowledges it, as Plivo retries (each try
        signed anew, the same MessageUUID); the number of tries."""
        deadline = time.monotonic() + timeout
        tries = 0
        while True:
            tries += 1
            try:
                status, body = self.signed_webhook(params)
            except OSError as error:  # refused, reset, timed out
                status, body = 0, {"error": repr(error)}
            if status == 200:
                return tries
            assert time.monotonic() < deadline, f"not acknowledged: {status} {body}"
            time.sleep(0.5)

    def text(self, phone: str, text: str, **extra: Any) -> dict:
        """A customer texts the bot through the stand-in (signed webhook)."""
        return http_json(
            "POST", f"{self.standin_url}/_standin/inbound", {"from": phone, "text": text, **extra}
        )

    def sent(self, to: Optional[str] = None) -> List[dict]:
        """Messages the bot handed to the stand-in (to one phone, or all), in order."""
        query = f"?to={quote(to)}" if to else ""
        return http_json("GET", f"{self.standin_url}/_standin/messages{query}")["messages"]

    def wait_replies(self, phone: str, count: int, timeout: float = 60) -> List[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            texts = [m["text"] for m in self.sent(phone)]
            if len(texts) >= count:
                return texts
            time.sleep(0.2)
        raise AssertionError(f"{phone}: expected {count} replies, got {self.sent(phone)}")

    def ask(self, phone: str, text: str, timeout: float = 60, **extra: Any) -> str:
        """Text the bot and wait for the one new reply."""
        before = len(self.sent(phone))
        self.text(phone, text, **extra)
        return self.wait_replies(phone, before + 1, timeout)[before]

    def fail(self, **body: Any) -> dict:
        """Inject a failure into the stand-in's Message API (POST /_standin/fail)."""
        return http_json("POST", f"{self.standin_url}/_standin/fail", body)

    def clear_failures(self) -> dict:
        """Remove every failure injected into the stand-in (DELETE /_standin/fail)."""
        return http_json("DELETE", f"{self.standin_url}/_standin/fail")

    def health(self) -> Tuple[int, dict]:
        """The receiver's GET /health: (status, JSON body)."""
        status, body = get(f"{self.receiver_url}/health")
        return status, json.loads(body or b"{}")

    def query(self, sql: str, **lists: List[str]) -> List[tuple]:
        """Rows of one SELECT on the topology's database; each keyword is a list bound to
        `IN :name` (a fresh connection: the server may have been restarted meanwhile)."""
        from sqlalchemy import bindparam, create_engine, text

        statement = text(sql).bindparams(*(bindparam(k, expanding=True) for k in lists))
        engine = create_engine(self.env["DATABASE_URL"])
        try:
            with engine.connect() as connection:
                return [tuple(row) for row in connection.execute(statement, lists)]
        finally:
            engine.dispose()

    def recorded_order(self, uuids: List[str]) -> List[str]:
        """These MessageUUIDs in the order the receiver recorded them (unrecorded last)."""
        rows = self.query(
            "SELECT provider_uuid FROM messages WHERE provider_uuid IN :uuids ORDER BY id",
            uuids=uuids,
        )
        found = [row[0] for row in rows]
        return found + [uuid for uuid in uuids if uuid not in found]

    def metrics(self) -> Tuple[int, str]:
        """The receiver's GET /metrics: (status, Prometheus text)."""
        status, body = get(f"{self.receiver_url}/metrics")
        return status, body.decode("utf-8", "replace")
