"""Sign-in throttling from LoginAttempt rows: failures per username and per address."""

from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.store.models import LoginAttempt, utcnow

WINDOW = dt.timedelta(minutes=10)
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_IP = 20
BLOCKED_MESSAGE = "Too many failed sign-ins. Wait 10 minutes and try again."


def _user_key(username: str) -> str:
    return f"user:{username.strip().lower()}"[:200]


def _ip_key(ip: str) -> str:
    return f"ip:{ip}"[:200]


def _failures(session: Session, key: str, since: dt.datetime) -> int:
    return int(
        session.execute(
            select(func.count())
            .select_from(LoginAttempt)
            .where(
                LoginAttempt.key == key, LoginAttempt.success.is_(False), LoginAttempt.at > since
            )
        ).scalar()
        or 0
    )


def blocked(session: Session, username: str, ip: str) -> Optional[str]:
    """A message if this username or address failed too often in the window, else None."""
    since = utcnow() - WINDOW
    if _failures(session, _user_key(username), since) >= MAX_FAILURES_PER_USER:
        return BLOCKED_MESSAGE
    if _failures(session, _ip_key(ip), since) >= MAX_FAILURES_PER_IP:
        return BLOCKED_MESSAGE
    return None


def record_attempt(session: Session, username: str, ip: str, success: bool) -> None:
    """Remember one sign-in attempt under both keys."""
    now = utcnow()
    for key in (_user_key(username), _ip_key(ip)):
        session.add(LoginAttempt(key=key, success=success, at=now))


def purge_old(session: Session, keep: dt.timedelta = dt.timedelta(days=1)) -> int:
    """Delete attempts older than `keep`."""
    return session.execute(
        delete(LoginAttempt)
        .where(LoginAttempt.at < utcnow() - keep)
        .execution_options(synchronize_session=False)
    ).rowcount
