"""Short SMS wording for order status (one segment where possible)."""

from __future__ import annotations

import datetime as dt
from typing import List, Optional

from bot.store.orders import OrderView


def short_date(day: Optional[dt.date]) -> str:
    return f"{day:%a %b} {day.day}" if day else ""


def order_status_text(order: OrderView) -> str:
    n = order.number
    if order.status == "shipped":
        parts = [f"Order {n} has shipped" + (f" with {order.carrier}." if order.carrier else ".")]
        if order.tracking_number:
            parts.append(f"Tracking {order.tracking_number}.")
        if order.eta:
            parts.append(f"Arriving {short_date(order.eta)}.")
        return " ".join(parts)
    if order.status == "processing":
        eta = f" Est. delivery {short_date(order.eta)}." if order.eta else ""
        return f"Order {n} is being prepared and will ship soon.{eta}"
    if order.status == "delivered":
        when = f" on {short_date(order.eta)}" if order.eta else ""
        return f"Order {n} was delivered{when}. Not received? Text AGENT."
    if order.status == "delayed":
        eta = f" Now expected {short_date(order.eta)}." if order.eta else ""
        return f"Order {n} is delayed, sorry.{eta} Questions? Text AGENT."
    if order.status == "cancelled":
        return f"Order {n} was cancelled. Questions? Text AGENT."
    return f"Order {n}: {order.status}."


def order_list_text(orders: List[OrderView]) -> str:
    listed = ", ".join(f"{o.number} ({o.status})" for o in orders)
    return f"Your recent orders: {listed}. Reply ORDER + number for details."


def not_found_text(number: str) -> str:
    return (
        f"I couldn't find order {number} for this phone number. "
        "Check the number, or text AGENT for help."
    )


def carrier_orders_text(
    carrier: str, matches: List[OrderView], open_orders: List[OrderView]
) -> str:
    """Several orders with one carrier, or none (then the open orders, or a question)."""
    if matches:
        listed = ", ".join(f"{o.number} ({o.status})" for o in matches[:4])
        return f"Your {carrier} orders: {listed}. Reply ORDER + number for details."
    missing = f"I don't see a {carrier} order on this number."
    if not open_orders:
        return f"{missing} What's your order number? (e.g. A1234)"
    listed = ", ".join(
        f"{o.number} ({o.status}{', ' + o.carrier if o.carrier else ''})" for o in open_orders
    )
    return f"{missing} Open orders: {listed}. Reply ORDER + number for details."
