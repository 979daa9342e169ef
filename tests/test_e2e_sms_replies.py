"""Over SMS: orders by carrier, stay requests on the request on file, replies by first name."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest

from bot.store.bookings import BookingView, create_booking_request, open_requests_for_phone
from bot.store.customers import get_or_create_customer
from bot.store.db import session_scope
from bot.store.models import Order, utcnow
from bot.store.seed import ALEX, PRIYA, SAM
from tests.sms_harness import SmsSetup, running_sms_setup

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sms(tmp_path_factory: pytest.TempPathFactory, trained_model: Path) -> Iterator[SmsSetup]:
    with running_sms_setup(tmp_path_factory.mktemp("sms-replies"), trained_model) as setup:
        yield setup


def fresh_phone() -> str:
    time.sleep(0.001)
    return f"+1555{time.time_ns() % 10_000_000:07d}"


def new_customer(sms: SmsSetup, name: str, stays: int = 0, orders: Tuple = ()) -> str:
    """A customer of this test only: `stays` open room requests, (status, carrier) orders."""
    phone = fresh_phone()
    with session_scope(sms.database_url) as session:
        customer = get_or_create_customer(session, phone)
        customer.name = name
        for i, (status, carrier) in enumerate(orders):
            number = f"D{phone[-5:]}{i}"
            session.add(
                Order(
                    number=number,
                    customer_id=customer.id,
                    status=status,
                    carrier=carrier,
                    eta=dt.date.today() + dt.timedelta(days=2),
                    placed_at=utcnow() - dt.timedelta(days=i + 1),
                )
            )
        for i in range(stays):
            start = dt.date.today() + dt.timedelta(days=20 + 10 * i)
            create_booking_request(
                session, phone, start, start + dt.timedelta(days=2), 2, "king", None
            )
    return phone


def stays_of(sms: SmsSetup, phone: str) -> List[BookingView]:
    with session_scope(sms.database_url) as session:
        return open_requests_for_phone(session, phone)


def test_a_package_by_carrier(sms: SmsSetup) -> None:
    reply = sms.ask(PRIYA, "Where's my FedEx package")
    assert reply.startswith("Order C3002 has shipped with FedEx")
    reply = sms.ask(ALEX, "where is my fedex package")
    assert reply.startswith("I don't see a FedEx order on this number. Open orders:")
    assert "A1001 (shipped, UPS)" in reply and "A1002 (processing)" in reply
    phone = new_customer(
        sms, "Casey Fox", orders=(("shipped", "FedEx"), ("shipped", "Fed Ex"), ("shipped", "UPS"))
    )
    reply = sms.ask(phone, "where's my fed ex package")
    fedex = f"D{phone[-5:]}"
    assert reply == (
        f"Your FedEx orders: {fedex}0 (shipped), {fedex}1 (shipped). "
        "Reply ORDER + number for details."
    )


def test_a_stay_request_goes_on_the_request_on_file(sms: SmsSetup) -> None:
    phone = new_customer(sms, "Riley Stone", stays=1)
    [stay] = stays_of(sms, phone)
    reply = sms.ask(phone, "extra towels and a late checkout")
    assert reply.startswith(
        f'Thanks Riley, I added "extra towels, a late checkout" to request {stay.ref}'
    )
    assert "Not guaranteed" in reply and len(reply) <= 160
    assert stays_of(sms, phone)[0].notes == "extra towels, a late checkout"
    assert sms.ask(phone, "hi").startswith("Hi Riley! ")  # no form left open


def test_customer_text_outside_gsm7_keeps_replies_within_budget(sms: SmsSetup) -> None:
    phone = new_customer(sms, "Zo\u00eb\U0001f338 Quinn", stays=1)
    assert sms.ask(phone, "hi").startswith("Hi Zoe! ")  # folded: GSM-7, one segment
    assert sms.sent(phone)[-1]["units"] == 1
    reply = sms.ask(phone, "we\u2019d love a quiet room \U0001f64f far from the lift please")
    assert reply.startswith('Thanks Zoe, I added "we\u2019d love a quiet room \U0001f64f')
    assert "(reply MORE)" not in reply and reply.endswith("we'll text to confirm.")
    assert sms.sent(phone)[-1]["units"] == 2  # UCS-2, within the budget of 2


def test_several_requests_on_file_ask_which(sms: SmsSetup) -> None:
    phone = new_customer(sms, "Morgan Vale", stays=2)
    first, second = stays_of(sms, phone)
    question = sms.ask(phone, "can we get a crib")
    assert question.startswith(f"Add it to which request? {first.ref} (")
    assert question.endswith(f"Text e.g. {first.ref}.")
    assert second.ref in question
    reply = sms.ask(phone, second.ref)
    assert reply.startswith(f'Thanks Morgan, I added "can we get a crib" to request {second.ref}')
    notes = [b.notes for b in stays_of(sms, phone)]
    assert notes == [None, "can we get a crib"]


def test_nothing_on_file_or_a_new_booking_opens_the_form(sms: SmsSetup) -> None:
    nobody = fresh_phone()
    assert "check in" in sms.ask(nobody, "can we get a crib")
    phone = new_customer(sms, "Dana Park", stays=1)
    start = dt.date.today() + dt.timedelta(days=60)
    end = start + dt.timedelta(days=3)
    reply = sms.ask(phone, f"book a rm {start:%b} {start.day} - {end:%b} {end.day} for 2 ppl king")
    assert "special requests" in reply
    assert stays_of(sms, phone)[0].notes is None


def test_greetings_and_hints_are_personal(sms: SmsSetup) -> None:
    assert sms.ask(ALEX, "hi").startswith("Hi Alex! ")
    assert sms.ask(fresh_phone(), "hi").startswith("Hi! ")
    [sams] = stays_of(sms, SAM)
    listing = sms.ask(SAM, "REQUESTS")
    assert listing.endswith(f"To cancel, text e.g. cancel {sams.ref}.")
