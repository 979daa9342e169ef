"""Which CPUs the Rasa server gets, and which the rest of the stack.

    python -m bot.cpus assistant|others     # a CPU list for `taskset -c`, or nothing

The Rasa server (one process, one event loop) is what limits how many texts a machine
answers. Measured on 2 cores (docs/benchmarks.md), it keeps its full speed behind the SMS
gateway only on a core of its own: sharing cores, it waits for a CPU while webhooks,
delivery reports and SMS bookkeeping run, and its caches go cold between them. So on a
machine with 2 or more CPUs the assistant gets CPU 0 and everything else (gateway and
dispatcher, action server, agent console, local stand-in) the others. That is the default
with the embedded SQLite database; with PostgreSQL on the same machine it made
acknowledgements wait (measured), so there it is only done when asked for.

ASSISTANT_CPUS sets the assistant's CPUs ("0", "2-3", "0,2"); "none" pins nothing. In
production the same split is systemd's CPUAffinity= (or docker's --cpuset-cpus) per unit.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Callable, Iterable, Mapping, Optional, Sequence, Set

from bot.settings import default_database_url, inbox_database_url

ENV = "ASSISTANT_CPUS"
NO_PINNING = "none"


def parse_cpu_list(spec: str) -> Set[int]:
    """A CPU list such as "0-2,5" -> {0, 1, 2, 5}; ValueError on anything else."""
    cpus: Set[int] = set()
    for part in "".join(spec.split()).split(","):
        low, dash, high = part.partition("-")
        if not low.isdigit() or (dash and not high.isdigit()):
            raise ValueError(f"{ENV}: not a CPU list: {spec!r}")
        first, last = int(low), int(high) if dash else int(low)
        if last < first:
            raise ValueError(f"{ENV}: not a CPU list: {spec!r}")
        cpus.update(range(first, last + 1))
    return cpus


def format_cpu_list(cpus: Iterable[int]) -> str:
    """{0, 1, 2, 5} -> "0-2,5" (taskset's and /proc's form)."""
    ranges: list = []
    for cpu in sorted(cpus):
        if ranges and cpu == ranges[-1][1] + 1:
            ranges[-1][1] = cpu
        else:
            ranges.append([cpu, cpu])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in ranges)


def available() -> Set[int]:
    """The CPUs this process may run on."""
    return set(os.sched_getaffinity(0))


def split(usable: Set[int]) -> Optional[Set[int]]:
    """The assistant's share of `usable`: its first CPU, or None with only one."""
    return {min(usable)} if len(usable) >= 2 else None


def _embedded_database(env: Mapping[str, str]) -> bool:
    return inbox_database_url(env.get("DATABASE_URL") or default_database_url()) is not None


def assistant_cpus(
    env: Mapping[str, str] = os.environ, usable: Optional[Set[int]] = None
) -> Optional[Set[int]]:
    """The Rasa server's CPUs, or None: no pinning (one CPU, ASSISTANT_CPUS=none, or by
    default a PostgreSQL database: on 2 shared cores its server's processes then crowded
    the receiver's CPU and acks waited, docs/benchmarks.md; set ASSISTANT_CPUS there)."""
    usable = available() if usable is None else usable
    spec = env.get(ENV, "").strip().lower()
    if spec == NO_PINNING:
        return None
    if not spec:
        return split(usable) if _embedded_database(env) else None
    wanted = parse_cpu_list(spec)
    if not wanted <= usable or wanted == usable:
        raise ValueError(
            f"{ENV}={spec} must name some, not all, of the CPUs "
            f"{format_cpu_list(usable)} available here"
        )
    return wanted


def other_cpus(
    env: Mapping[str, str] = os.environ, usable: Optional[Set[int]] = None
) -> Optional[Set[int]]:
    """The CPUs of everything but the Rasa server, or None: no pinning."""
    usable = available() if usable is None else usable
    assistant = assistant_cpus(env, usable)
    return None if assistant is None else usable - assistant


def pin_before_exec(cpus: Optional[Set[int]]) -> Optional[Callable[[], None]]:
    """A subprocess `preexec_fn` that pins the child (and so every thread it starts)."""
    if cpus is None:
        return None
    return lambda: os.sched_setaffinity(0, cpus)


def allowed_cpus(pid: int) -> Set[int]:
    """What a running process may use (its main thread), from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Cpus_allowed_list:"):
            return parse_cpu_list(line.split(":", 1)[1].strip())
    raise ValueError(f"no Cpus_allowed_list for {pid}")


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args not in (["assistant"], ["others"]):
        print("usage: python -m bot.cpus assistant|others", file=sys.stderr)
        return 2
    try:
        cpus = assistant_cpus() if args == ["assistant"] else other_cpus()
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    print(format_cpu_list(cpus) if cpus is not None else "")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
