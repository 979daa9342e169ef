"""Customers, identified by their E.164 phone number."""

from __future__ import annotations

from typing import Optional, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from bot.store.models import Customer, utcnow


def find_customer(session: Session, phone: str) -> Optional[Customer]:
    return session.execute(select(Customer).where(Customer.phone == phone)).scalar_one_or_none()


def first_name_for_phone(session: Session, phone: Optional[str]) -> Optional[str]:
    """The first name on file for this phone only; None for unknown or unnamed numbers."""
    if phone is None:
        return None
    found = session.execute(select(Customer.first_name).where(Customer.phone == phone)).first()
    return found[0] if found else None


def get_or_create_customer(session: Session, phone: str, name: Optional[str] = None) -> Customer:
    customer = find_customer(session, phone)
    if customer is None:
        customer = Customer(phone=phone, name=name)
        session.add(customer)
        session.flush()
    return customer


_OPTED_OUT = select(Customer.opted_out).where(Customer.phone == bindparam("phone"))


def is_opted_out(session: Union[Session, Connection], phone: str) -> bool:
    found = session.execute(_OPTED_OUT, {"phone": phone}).first()
    return bool(found and found[0])


def set_opted_out(session: Union[Session, Connection], phone: str, opted_out: bool) -> None:
    """Record an opt-out (STOP, carrier error 200) or an opt-in (START)."""
    values = {"opted_out": opted_out, "opted_out_at": utcnow() if opted_out else None}
    changed = session.execute(
        update(Customer)
        .where(Customer.phone == phone)
        .values(**values)
        .execution_options(synchronize_session="evaluate")
    ).rowcount
    if not changed:
        session.execute(insert(Customer).values(phone=phone, **values))


def set_timezone(session: Session, phone: str, timezone: Optional[str]) -> None:
    """The customer's IANA timezone (quiet hours are theirs); None: BUSINESS_TZ.

    Raises ValueError for a name the timezone database does not know."""
    if timezone is not None:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone: {timezone!r}") from None
    customer = get_or_create_customer(session, phone)
    customer.timezone = timezone
    session.flush()
