"""Memory and CPU figures of a running process from /proc (Linux only)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcStats:
    pid: int
    rss_mb: float  # VmRSS: resident memory now
    hwm_mb: float  # VmHWM: peak resident memory so far
    cpu_s: float  # user + system CPU time so far
    threads: int


def _status(pid: int) -> Dict[str, str]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return fields


def _kb_to_mb(value: str) -> float:
    return int(value.split()[0]) / 1024.0  # "123456 kB"


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process (not of its children)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # the command name may contain spaces
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # fields 14 and 15 of stat


def children(pid: int) -> List[int]:
    """Direct child pids (empty when the kernel does not expose them)."""
    pids: List[int] = []
    task_dir = Path(f"/proc/{pid}/task")
    for task in task_dir.iterdir() if task_dir.exists() else ():
        try:
            pids.extend(int(p) for p in (task / "children").read_text().split())
        except OSError:
            continue
    return pids


def proc_stats(pid: int) -> ProcStats:
    status = _status(pid)
    return ProcStats(
        pid=pid,
        rss_mb=_kb_to_mb(status["VmRSS"]),
        hwm_mb=_kb_to_mb(status["VmHWM"]),
        cpu_s=cpu_seconds(pid),
        threads=int(status["Threads"]),
    )
