"""Orders by carrier: the pure carrier reading and action_track_order on a real database."""

from __future__ import annotations

import datetime as dt
from typing import Optional

import pytest

from actions.track_order import ActionTrackOrder
from bot.store.customers import get_or_create_customer
from bot.store.db import session_scope
from bot.store.models import Order, utcnow
from bot.store.seed import ALEX, JORDAN, PRIYA, SAM
from bot.text.carriers import canonical_carrier, find_carrier, same_carrier
from tests.action_helpers import make_tracker, run_action, texts

CASEY = "+15005550005"


@pytest.mark.parametrize(
    "text, carrier",
    [
        ("Where's my FedEx package", "FedEx"),
        ("wheres my fed ex pkg", "FedEx"),
        ("fedx delivery?", "FedEx"),
        ("did the ups guy come yet", "UPS"),
        ("my U.P.S. parcel", "UPS"),
        ("where is my usps package", "USPS"),
        ("the mailman never came", "USPS"),
        ("dhl parcel stuck", "DHL"),
        ("my amazon package", "Amazon Logistics"),
        ("is my order on track", None),
        ("where's my package", None),
        ("", None),
    ],
)
def test_find_carrier(text: str, carrier: Optional[str]) -> None:
    assert find_carrier(text) == carrier


def test_carriers_the_data_holds_are_found_too() -> None:
    assert find_carrier("where is my purolator box", known=["Purolator"]) == "Purolator"
    assert find_carrier("where is my purolator box") is None
    assert find_carrier("ups or fedex?") == "UPS"  # the first one named


def test_carrier_spellings_in_the_data() -> None:
    assert canonical_carrier("FedEx Ground") == "FedEx"
    assert canonical_carrier("Amazon Logistics") == "Amazon Logistics"
    assert same_carrier("FEDEX", "Fed Ex") and not same_carrier("UPS", "USPS")
    assert not same_carrier(None, "UPS")


def add_orders(phone: str, name: str, *orders: tuple) -> None:
    """(number, status, carrier, days ago) orders for a new customer."""
    with session_scope() as session:
        customer = get_or_create_customer(session, phone)
        customer.name = name
        for number, status, carrier, ago in orders:
            session.add(
                Order(
                    number=number,
                    customer_id=customer.id,
                    status=status,
                    carrier=carrier,
                    tracking_number=f"T{number}" if carrier else None,
                    eta=dt.date.today() + dt.timedelta(days=2),
                    placed_at=utcnow() - dt.timedelta(days=ago),
                )
            )


async def ask(phone: str, text: str) -> tuple:
    messages, events = await run_action(
        ActionTrackOrder(), make_tracker(phone, text, "track_order")
    )
    return texts(messages)[0], events


async def test_one_order_of_that_carrier_is_answered(database_url: str) -> None:
    reply, events = await ask(PRIYA, "Where's my FedEx package")
    assert reply.startswith("Order C3002 has shipped with FedEx") and len(reply) <= 160
    assert [(e["name"], e["value"]) for e in events] == [("order_number", "C3002")]


async def test_misspelt_carrier_and_a_remembered_order_number(database_url: str) -> None:
    tracker = make_tracker(ALEX, "did the ups guy come yet", "track_order")
    tracker.slots["order_number"] = "A1002"  # the carrier named now wins over the old topic
    messages, _ = await run_action(ActionTrackOrder(), tracker)
    assert texts(messages)[0].startswith("Order A1001 has shipped with UPS")


async def test_several_orders_of_that_carrier_are_listed(database_url: str) -> None:
    add_orders(
        CASEY,
        "Casey Fox",
        ("D4001", "shipped", "FedEx", 1),
        ("D4002", "shipped", "Fed Ex", 2),
        ("D4003", "shipped", "UPS", 3),
        ("D4004", "delivered", "FedEx", 30),
    )
    reply, events = await ask(CASEY, "where is my fed ex package")
    assert (
        reply
        == "Your FedEx orders: D4001 (shipped), D4002 (shipped). Reply ORDER + number for details."
    )
    assert events == []
    reply, _ = await ask(CASEY, "my ups parcel?")
    assert reply.startswith("Order D4003 has shipped with UPS")


async def test_no_order_of_that_carrier_lists_the_open_orders(database_url: str) -> None:
    reply, _ = await ask(ALEX, "where is my fedex package")
    assert reply.startswith("I don't see a FedEx order on this number.")
    assert "A1001 (shipped, UPS)" in reply and "A1002 (processing)" in reply
    assert len(reply) <= 160


async def test_no_open_order_asks_for_the_number(database_url: str) -> None:
    for phone in (SAM, JORDAN, "+15005550999", "browser-1"):
        reply, _ = await ask(phone, "wheres my dhl package")
        assert reply == (
            "I don't see a DHL order on this number. What's your order number? (e.g. A1234)"
        )


async def test_a_carrier_nobody_else_spells_that_way(database_url: str) -> None:
    add_orders(CASEY, "Casey Fox", ("D4005", "shipped", "Purolator", 1))
    reply, _ = await ask(CASEY, "where's my purolator package")
    assert reply.startswith("Order D4005 has shipped with Purolator")
    reply, _ = await ask(ALEX, "where's my purolator package")  # not a carrier Alex has
    assert reply.startswith("Your recent orders")


async def test_an_order_number_wins_over_the_carrier(database_url: str) -> None:
    tracker = make_tracker(PRIYA, "is C3001 with fedex", "track_order")
    messages, _ = await run_action(ActionTrackOrder(), tracker)
    assert texts(messages)[0].startswith("Order C3001 was cancelled")
