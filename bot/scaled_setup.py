"""Prepare the scaled topology before its processes start (`make run-scaled` runs this).

    python -m bot.scaled_setup [--no-seed]

With the environment of deploy/scaled.env: creates the PostgreSQL database of DATABASE_URL
(and TRACKER_DATABASE_URL) if missing, migrates and seeds it, and empties
PROMETHEUS_MULTIPROC_DIR (counter files of processes from an earlier run) and the stale pid
files of PIDFILE_DIR (var/run): all read once, as Settings.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import List, Optional

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.settings import settings_or_exit


def ensure_database(url: str) -> bool:
    """Create the PostgreSQL database named in `url` if it does not exist; True if created."""
    target = make_url(url)
    if not target.drivername.startswith("postgresql") or not target.database:
        return False
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": target.database},
            ).scalar()
            if exists:
                return False
            quoted = conn.dialect.identifier_preparer.quote(target.database)
            conn.execute(text(f"CREATE DATABASE {quoted}"))
            return True
    finally:
        admin.dispose()


def clear_run_state(prometheus_dir: Optional[str], pid_dir: Path) -> List[Path]:
    """Remove earlier runs' counter files and pid files whose process is gone."""
    removed: List[Path] = []
    if prometheus_dir:
        folder = Path(prometheus_dir)
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.db"):
            old.unlink()
            removed.append(old)
    pid_dir.mkdir(parents=True, exist_ok=True)
    for old in pid_dir.glob("*.pid"):
        try:
            os.kill(int(old.read_text().strip()), 0)
        except (ValueError, ProcessLookupError):
            old.unlink()
            removed.append(old)
        except PermissionError:
            pass  # alive, someone else's
    return removed


def main(argv: Optional[List[str]] = None) -> int:
    """Create, migrate and seed the database; clear the run folder."""
    parser = argparse.ArgumentParser(prog="python -m bot.scaled_setup", description=__doc__)
    parser.add_argument("--no-seed", action="store_true", help="do not load the demo data")
    args = parser.parse_args(argv)
    settings = settings_or_exit("scaled setup")
    for url in dict.fromkeys([settings.database_url, settings.tracker_database_url]):
        if ensure_database(url):
            print(f"created database {make_url(url).database}")
    from bot.store.db import session_scope
    from bot.store.migrate import upgrade
    from bot.store.seed import seed

    upgrade(settings.database_url)
    print("database migrated")
    if not args.no_seed:
        with session_scope(settings.database_url) as session:
            seed(session)
        print("demo data seeded")
    clear_run_state(settings.prometheus_multiproc_dir, settings.pidfile_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
