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


def runqueue_wait_seconds(pid: int) -> float:
    """Time the process's threads spent runnable but waiting for a CPU (all threads, so
    far; from /proc/<pid>/task/*/schedstat). Threads that ended are not counted."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total / 1e9


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


def machine_busy_seconds() -> float:
    """CPU seconds all CPUs spent not idle since boot (from the `cpu` line of /proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    busy = sum(fields[:8]) - idle  # user nice system idle iowait irq softirq steal
    return busy / CLOCK_TICKS


def self_cpu_seconds() -> float:
    """CPU seconds used by this process (all threads)."""
    return cpu_seconds(os.getpid())
