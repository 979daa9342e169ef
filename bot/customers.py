"""Customers, identified by their E.164 phone number."""

from __future__ import annotations

from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import Customer


def find_customer(session: Session, phone: str) -> Optional[Customer]:
    return session.execute(select(Customer).where(Customer.phone == phone)).scalar_one_or_none()


def get_or_create_customer(session: Session, phone: str, name: Optional[str] = None) -> Customer:
    customer = find_customer(session, phone)
    if customer is None:
        customer = Customer(phone=phone, name=name)
        session.add(customer)
        session.flush()
    return customer


def is_opted_out(session: Session, phone: str) -> bool:
    found = session.execute(select(Customer.opted_out).where(Customer.phone == phone)).first()
    return bool(found and found[0])


def set_opted_out(session: Session, phone: str, opted_out: bool) -> None:
    """Record an opt-out (STOP, carrier error 200) or an opt-in (START)."""
    from bot.models import utcnow

    customer = get_or_create_customer(session, phone)
    customer.opted_out = opted_out
    customer.opted_out_at = utcnow() if opted_out else None
