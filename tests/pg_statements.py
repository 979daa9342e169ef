"""A private PostgreSQL server that logs every statement, and a reader of that log.

For counting the SMS path's transactions and statements (pg_stat_statements is not loaded
on the shared server). Each process connects with its own application_name and Rasa's
trackers with a role of their own, so the log tells who ran what. Fault tests use it
without statement logging and restart it (tests/scaled_topology.py): never the shared one.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from bot.launcher import free_port

BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"))), None)
PREFIX = "%m [%p] user=%u app=%a vxid=%v "
_ENTRY = re.compile(
    r"^\S+ \S+ \S+ \[(?P<pid>\d+)\] user=(?P<user>\S*) app=(?P<app>\S*) vxid=(?P<vxid>\S*) "
    r"LOG:  statement: (?P<sql>.*)$"
)
_OTHER = re.compile(r"^\S+ \S+ \S+ \[\d+\] ")


def _as_postgres(args: List[str]) -> List[str]:
    """Server binaries refuse to run as root."""
    import os

    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


@dataclass
class PrivatePostgres:
    """initdb + pg_ctl in a temp dir, on a free port, with log_statement=all (unless
    `log_statements` is off); it can be stopped, started and restarted on the same port."""

    port: int = field(default_factory=free_port)
    workdir: Optional[Path] = None
    log_statements: bool = True

    @property
    def log(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "postgres.log"

    def url(self, user: str, database: str = "bot", app: Optional[str] = None) -> str:
        query = f"?application_name={app}" if app else ""
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}{query}"

    def start(self) -> "PrivatePostgres":
        assert BIN is not None, "no PostgreSQL server binaries under /usr/lib/postgresql"
        self.workdir = Path(tempfile.mkdtemp(prefix="pg-count-"))
        shutil.chown(self.workdir, "postgres", "postgres")
        data = self.workdir / "data"
        subprocess.run(
            _as_postgres([str(BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"]),
            check=True,
            capture_output=True,
        )
        self.start_server()
        return self

    def _options(self) -> str:
        logging = "all" if self.log_statements else "none"
        return (
            f"-p {self.port} -k {self.workdir} -c listen_addresses=127.0.0.1 "
            f"-c log_statement={logging} -c log_line_prefix='{PREFIX}' -c fsync=off"
        )

    def _pg_ctl(self, *args: str) -> None:
        assert BIN is not None and self.workdir is not None
        data = str(self.workdir / "data")
        subprocess.run(
            _as_postgres([str(BIN / "pg_ctl"), "-D", data, "-l", str(self.log), "-w", *args]),
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start_server(self) -> None:
        """Start the (initialised) server; returns when it accepts connections."""
        self._pg_ctl("-o", self._options(), "start")

    def stop_server(self, mode: str = "fast") -> None:
        """Stop the server (`fast`: sessions are ended; `immediate`: no shutdown checkpoint)."""
        self._pg_ctl("-m", mode, "stop")

    def restart(self, mode: str = "fast") -> None:
        """Restart on the same port: every connection is cut, as in a real restart."""
        self._pg_ctl("-m", mode, "-o", self._options(), "restart")

    def sql(self, statement: str, database: str = "postgres") -> None:
        from sqlalchemy import create_engine, text

        engine = create_engine(self.url("postgres", database), isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(statement))
        engine.dispose()

    def stop(self) -> None:
        if self.workdir is None:
            return
        subprocess.run(
            _as_postgres(
                [str(BIN / "pg_ctl"), "-D", str(self.workdir / "data"), "-m", "immediate", "stop"]
            ),
            capture_output=True,
        )
        shutil.rmtree(self.workdir, ignore_errors=True)

    def log_size(self) -> int:
        return self.log.stat().st_size

    def statements(self, since: int) -> List[Tuple[str, str, str, str, str]]:
        """(pid, user, app, vxid, sql) of each statement logged after byte `since`."""
        time.sleep(0.3)  # the server's log buffer
        with open(self.log, "rb") as log:
            log.seek(since)
            lines = log.read().decode("utf-8", "replace").splitlines()
        out: List[list] = []
        for line in lines:
            match = _ENTRY.match(line)
            if match:
                out.append([*match.group("pid", "user", "app", "vxid"), match.group("sql")])
            elif out and not _OTHER.match(line):
                out[-1][4] += "\n" + line  # a statement's later lines
            elif _OTHER.match(line):
                out.append(["", "", "", "", ""])  # some other message: ends the statement
        return [tuple(s) for s in out if s[0]]  # type: ignore[misc]


CONTROL = {"BEGIN", "COMMIT", "ROLLBACK"}


@dataclass
class Counts:
    transactions: int = 0
    statements: int = 0  # without BEGIN/COMMIT/ROLLBACK
    pings: int = 0  # the pool's pre-ping SELECT 1 (in the same transactions)
    by_app: Dict[str, List[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    idle_polls: int = 0  # transactions that only probed for work and found none
    delivery_reports: int = 0  # excluded, as the issue says
    connection_setup: int = 0  # statements psycopg2 runs on a new connection


# Periodic probes that run whether or not texts arrive (the worker's claim without LISTEN
# news, the sender's poll for rows queued elsewhere, its reclaim of dead sends, the
# outbound release loop's look for due scheduled texts); alone in a transaction they found
# nothing.
_PROBES = (
    "FOR UPDATE OF m SKIP LOCKED",
    "SELECT outbox.id FROM outbox WHERE outbox.status = 'queued'",
    "UPDATE outbox SET status='queued', ambiguous=true",
    "SELECT outbound_texts.id FROM outbound_texts WHERE outbound_texts.status = 'scheduled'",
)


def count(statements: List[Tuple[str, str, str, str, str]], apps: Tuple[str, ...]) -> Counts:
    """Transactions and statements of the given applications, classified."""
    groups: Dict[Tuple[str, str], List[str]] = defaultdict(list)
    counts = Counts()
    for pid, _user, app, vxid, sql in statements:
        if app not in apps:
            continue
        if vxid.endswith("/0") or not vxid:  # outside a transaction: connection set-up
            counts.connection_setup += 1
            continue
        groups[(app, pid, vxid)].append(" ".join(sql.split()))  # type: ignore[index]
    for key, sqls in groups.items():
        work = [s for s in sqls if s.upper() not in CONTROL and s != "SELECT 1"]
        pings = sum(1 for s in sqls if s == "SELECT 1")
        if not work:  # a pool pre-ping on its own: a transaction of the SMS path too
            counts.transactions += 1
            counts.pings += pings
            continue
        if any("INSERT INTO delivery_reports" in s for s in work):
            counts.delivery_reports += 1
            continue
        if len(work) == 1 and any(p in work[0] for p in _PROBES):
            counts.idle_polls += 1
            continue
        counts.transactions += 1
        counts.statements += len(work)
        counts.pings += pings
        app = key[0]
        counts.by_app[app][0] += 1
        counts.by_app[app][1] += len(work)
    return counts
