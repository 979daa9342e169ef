"""Demo desk users for the local setup: one supervisor and two agents in different teams.

Passwords are generated once and kept in var/demo-agents.txt (local only, git-ignored), so
`make run` can print them every time.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import List

from sqlalchemy import select

from bot.desk.agents import create_agent
from bot.settings import VAR_DIR
from bot.store.db import session_scope
from bot.store.models import Agent

DEMO_AGENTS = [
    # username, name, role, teams
    ("sup", "Morgan Supervisor", "supervisor", ["general", "orders", "bookings"]),
    ("dana", "Dana (orders)", "agent", ["orders", "general"]),
    ("lee", "Lee (bookings)", "agent", ["bookings", "general"]),
]
PASSWORDS_FILE: Path = VAR_DIR / "demo-agents.txt"


def _saved_passwords() -> dict:
    if not PASSWORDS_FILE.exists():
        return {}
    pairs = (line.split(" ", 1) for line in PASSWORDS_FILE.read_text().splitlines() if line)
    return {user: password for user, password in pairs}


def ensure_demo_agents() -> List[str]:
    """Create missing demo users; return one printable line per user."""
    saved = _saved_passwords()
    lines = []
    with session_scope() as session:
        for username, name, role, teams in DEMO_AGENTS:
            exists = session.execute(select(Agent.id).where(Agent.username == username)).first()
            if not exists:
                saved[username] = secrets.token_urlsafe(9)
                create_agent(session, username, name, saved[username], role=role, teams=teams)
            password = saved.get(username, "(set before; see `python -m bot agents password`)")
            lines.append(f"  {role:10} {username:5} password {password}   teams {','.join(teams)}")
    PASSWORDS_FILE.parent.mkdir(parents=True, exist_ok=True)
    PASSWORDS_FILE.write_text("".join(f"{u} {p}\n" for u, p in saved.items()))
    PASSWORDS_FILE.chmod(0o600)
    return lines
