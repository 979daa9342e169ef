"""PID files for the scaled topology: `var/run/<role>-<n>.pid`, removed on a clean exit.

    python -m bot.pidfile ROLE INDEX MODULE [ARGS...]

runs MODULE as `python -m MODULE ARGS...` in this same process (so the file holds the
server's own pid) after writing the file; deploy/Procfile starts every role this way, so
the servers themselves need no pid-file code. `write_pidfile()` is the same for an entry
point that wants to call it itself. The folder is Settings.pidfile_dir (PIDFILE_DIR, else
var/run), read by `main`.
"""

from __future__ import annotations

import atexit
import os
import re
import runpy
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import List, Optional, Sequence

from bot.settings import settings_or_exit

ROLE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


def pidfile_path(role: str, index: int, folder: Path) -> Path:
    """`<folder>/<role>-<index>.pid` (role: lower-case letters, digits, `_`; index >= 1)."""
    if not ROLE_PATTERN.match(role):
        raise ValueError(f"role must match {ROLE_PATTERN.pattern}: {role!r}")
    if index < 1:
        raise ValueError(f"index must be at least 1: {index}")
    return folder / f"{role}-{index}.pid"


def remove_pidfile(path: Path, pid: Optional[int] = None) -> bool:
    """Remove the file if it still names `pid` (default: this process); True if removed."""
    expected = str(os.getpid() if pid is None else pid)
    try:
        if path.read_text().strip() != expected:
            return False  # a newer process of the same role took it over
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def _exit_on_sigterm(signum: int, _frame: Optional[FrameType]) -> None:
    """SIGTERM as a clean exit (atexit handlers run), until a server installs its own."""
    raise SystemExit(128 + signum)


def write_pidfile(role: str, index: int, folder: Path) -> Path:
    """Write this process's pid to `<role>-<index>.pid` and remove it again at exit."""
    path = pidfile_path(role, index, folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_text(f"{os.getpid()}\n")
    os.replace(temporary, path)  # readers never see a half-written file
    atexit.register(remove_pidfile, path, os.getpid())
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
    return path


def run_module(role: str, index: int, module: str, args: Sequence[str], folder: Path) -> None:
    """Write the pid file, then run `module` as __main__ with `args` in this process."""
    write_pidfile(role, index, folder)
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


def main(argv: Optional[List[str]] = None) -> None:
    """`python -m bot.pidfile ROLE INDEX MODULE [ARGS...]`."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) < 3 or not argv[1].isdigit():
        raise SystemExit("usage: python -m bot.pidfile ROLE INDEX MODULE [ARGS...]")
    role, index, module, *args = argv
    folder = settings_or_exit("bot.pidfile").pidfile_dir
    try:
        pidfile_path(role, int(index), folder)
    except ValueError as error:
        raise SystemExit(f"bot.pidfile: {error}") from None
    run_module(role, int(index), module, args, folder)


if __name__ == "__main__":
    main()
