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
