"""First names in greetings and confirmations, and hints naming the customer's own requests."""

from __future__ import annotations

import pytest

from actions.booking_requests import ActionCancelRequest, ActionListRequests
from actions.greet import ActionGreet
from bot.sms.segments import GSM7, sms_info
from bot.store.bookings import open_requests_for_phone
from bot.store.customers import get_or_create_customer
from bot.store.db import dispose_engines, session_scope
from bot.store.seed import ALEX, JORDAN, SAM
from tests.action_helpers import make_tracker, run_action, texts

GREETING = "I can check an order, take a room request, or answer questions."


async def greet(sender: str) -> str:
    messages, events = await run_action(ActionGreet(), make_tracker(sender, "hi", "greet"))
    assert events == []
    [reply] = texts(messages)
    return reply


async def test_known_customers_are_greeted_by_first_name(database_url: str) -> None:
    assert await greet(ALEX) == f"Hi Alex! {GREETING} Text AGENT anytime for a person."
    assert (await greet(JORDAN)).startswith("Hi Jordan! ")


async def test_unknown_and_unnamed_numbers_get_the_plain_greeting(database_url: str) -> None:
    with session_scope() as session:
        get_or_create_customer(session, "+15005550888")  # on file, no name
    for sender in ("+15005550999", "+15005550888", "browser-1"):
        assert (await greet(sender)).startswith(f"Hi! {GREETING}")


async def test_a_long_name_is_cut_short(database_url: str) -> None:
    with session_scope() as session:
        get_or_create_customer(session, "+15005550777").name = "Bartholomew-Maximilian Smith"
    reply = await greet("+15005550777")
    assert reply.startswith("Hi Bartholomew! ") and len(reply) <= 160
    with session_scope() as session:
        get_or_create_customer(session, "+15005550777").name = "Wolfeschlegelsteinhausen Sr"
    assert (await greet("+15005550777")).startswith("Hi! ")


@pytest.mark.parametrize(
    "name, greeting",
    [
        ("Zoë Martin", "Hi Zoe! "),
        ("\U0001f338Zoë\U0001f338 Martin", "Hi Zoe! "),  # emoji dropped
        ("D\u2019Arcy Lee", "Hi D'Arcy! "),  # curly apostrophe straightened
        ("Σοφία Papadopoulou", "Hi! "),  # no GSM-7 form: no name rather than a mangled one
    ],
)
async def test_a_name_outside_gsm7_is_folded_and_the_greeting_stays_one_gsm7_segment(
    database_url: str, name: str, greeting: str
) -> None:
    with session_scope() as session:
        get_or_create_customer(session, "+15005550666").name = name
    reply = await greet("+15005550666")
    assert reply.startswith(greeting)
    assert (sms_info(reply).encoding, sms_info(reply).segments) == (GSM7, 1)


async def test_database_down_greets_without_a_name(monkeypatch: pytest.MonkeyPatch) -> None:
    dispose_engines()
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/nowhere")
    reply = await greet(ALEX)
    dispose_engines()
    assert reply.startswith("Hi! ")


async def test_hints_name_the_customers_own_requests(database_url: str) -> None:
    with session_scope() as session:
        [sams] = open_requests_for_phone(session, SAM)
    messages, _ = await run_action(
        ActionListRequests(), make_tracker(SAM, "REQUESTS", "my_requests")
    )
    [listing] = texts(messages)
    assert listing.endswith(f"To cancel, text e.g. cancel {sams.ref}.")
    messages, _ = await run_action(
        ActionCancelRequest(), make_tracker(SAM, "cancel my room request", "cancel_request")
    )
    [which] = texts(messages)
    assert which.startswith(f"Which request? {sams.ref} ") and which.endswith(
        f"Text e.g. cancel {sams.ref}."
    )


async def test_cancel_confirmation_uses_the_first_name(database_url: str) -> None:
    with session_scope() as session:
        [sams] = open_requests_for_phone(session, SAM)
    messages, _ = await run_action(
        ActionCancelRequest(), make_tracker(SAM, f"cancel {sams.ref}", "cancel_request")
    )
    assert texts(messages) == [f"OK Sam, request {sams.ref} is cancelled."]
