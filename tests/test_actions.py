"""Custom actions through rasa_sdk's real Tracker and dispatcher, against a real database."""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, Optional

import pytest
from sqlalchemy.exc import OperationalError

from actions import safe_action
from actions.booking_confirm import ActionAskBookingConfirmed, summary
from actions.booking_requests import ActionCancelRequest, ActionListRequests
from actions.booking_submit import ActionSubmitBooking
from actions.faq import ActionAnswerFaq
from actions.handoff import ActionDefaultFallback, ActionHandoff
from actions.track_order import ActionTrackOrder
from bot.designer.checks import Project
from bot.settings import PROJECT_ROOT
from bot.sms.customer_text import utf16_length
from bot.sms.segments import UCS2, sms_info
from bot.sms.text import join_turn
from bot.store.db import dispose_engines, session_scope
from bot.store.handoffs import open_handoffs
from bot.store.seed import ALEX, PRIYA, SAM
from tests.action_helpers import make_tracker, run_action, texts

UNKNOWN = "+15005550999"


def order_entity(number: str) -> list:
    return [{"entity": "order_number", "value": number}]


async def test_track_own_order(database_url: str) -> None:
    tracker = make_tracker(ALEX, "wheres my ordr A1001", "track_order", order_entity("A1001"))
    messages, events = await run_action(ActionTrackOrder(), tracker)
    [reply] = texts(messages)
    eta = dt.date.today() + dt.timedelta(days=2)
    assert "A1001" in reply and "shipped" in reply and "UPS" in reply
    assert "1Z999AA10123456784" in reply and f"{eta:%b} {eta.day}" in reply
    assert len(reply) <= 160
    assert {"event": "slot", "name": "order_number", "value": "A1001"} in [
        {k: e[k] for k in ("event", "name", "value")} for e in events
    ]


async def test_someone_elses_order_reads_exactly_like_an_unknown_one(database_url: str) -> None:
    theirs, _ = await run_action(
        ActionTrackOrder(),
        make_tracker(SAM, "status of A1001?", "track_order", order_entity("A1001")),
    )
    unknown, _ = await run_action(
        ActionTrackOrder(),
        make_tracker(SAM, "status of A1009?", "track_order", order_entity("A1009")),
    )
    theirs_text, unknown_text = texts(theirs)[0], texts(unknown)[0]
    assert theirs_text == unknown_text.replace("A1009", "A1001")
    assert "UPS" not in theirs_text and "1Z999" not in theirs_text and "shipped" not in theirs_text


async def test_order_number_found_in_text_without_entity(database_url: str) -> None:
    messages, _ = await run_action(
        ActionTrackOrder(), make_tracker(SAM, "did b-2001 arrive", "track_order")
    )
    assert "B2001 was delivered" in texts(messages)[0]


async def test_no_number_single_order_is_answered(database_url: str) -> None:
    messages, _ = await run_action(
        ActionTrackOrder(), make_tracker(SAM, "my order?", "track_order")
    )
    assert texts(messages)[0].startswith("Order B2001 was delivered")


async def test_no_number_several_orders_are_listed(database_url: str) -> None:
    messages, _ = await run_action(ActionTrackOrder(), make_tracker(PRIYA, "ordr", "track_order"))
    reply = texts(messages)[0]
    assert "C3002 (shipped)" in reply and "C3001 (cancelled)" in reply


async def test_no_orders_asks_for_number(database_url: str) -> None:
    messages, _ = await run_action(
        ActionTrackOrder(), make_tracker(UNKNOWN, "my order", "track_order")
    )
    assert messages[0]["response"] == "utter_ask_order_number"


async def test_non_phone_sender_sees_no_orders(database_url: str) -> None:
    messages, _ = await run_action(
        ActionTrackOrder(),
        make_tracker("browser-123", "A1001", "track_order", order_entity("A1001")),
    )
    assert "couldn't find order A1001" in texts(messages)[0]


def booking_slots(**overrides: object) -> dict:
    start = dt.date.today() + dt.timedelta(days=20)
    slots = {
        "checkin": start.isoformat(),
        "checkout": (start + dt.timedelta(days=3)).isoformat(),
        "guests": 2.0,
        "room_type": "king",
        "special_requests": "2 beds",
        "booking_confirmed": True,
    }
    slots.update(overrides)
    return slots


async def test_the_confirmation_question_fits_two_segments_with_notes_in_emoji() -> None:
    """Longest span, 30 nights, 8 guests, the longest room word, typed notes as UCS-2."""
    check_in = dt.date(dt.date.today().year + 1, 9, 30)
    slots = booking_slots(
        checkin=check_in.isoformat(),
        checkout=(check_in + dt.timedelta(days=30)).isoformat(),
        guests=8.0,
        room_type="accessible",
        special_requests="we\u2019d love \U0001f389\U0001f389 a quiet room far from the lift",
    )
    tracker = make_tracker(ALEX, "no", "deny", slots=slots)
    messages, _ = await run_action(ActionAskBookingConfirmed(), tracker)
    sms, _ = join_turn([{**messages[0], "text": texts(messages)[0]}])  # as the channel sends it
    assert sms.startswith(
        "Add this request? Sep 30-Oct 30 (30 nights), 8 guests, accessible room, "
        'notes: "we\u2019d love \U0001f389\U0001f389'
    )
    assert sms.endswith('...".\n1) Yes  2) No')
    info = sms_info(sms)
    assert (info.encoding, info.segments) == (UCS2, 2)
    lengths = Project.load(PROJECT_ROOT, budget=2).config["placeholder_max_length"]
    assert utf16_length(summary(tracker)) <= lengths["summary"]  # data/checks.yml is honest


async def test_confirmed_booking_is_stored_as_requested(database_url: str) -> None:
    tracker = make_tracker(ALEX, "yes", "affirm", slots=booking_slots())
    messages, events = await run_action(ActionSubmitBooking(), tracker)
    reply = texts(messages)[0]
    assert "not a guaranteed booking" in reply and "on your file" in reply
    assert reply.startswith("Thanks Alex, request R") and len(reply) <= 160
    from bot.store.bookings import open_requests_for_phone

    with session_scope() as session:
        [stored] = open_requests_for_phone(session, ALEX)
    assert (stored.guests, stored.room_type, stored.notes, stored.status) == (
        2,
        "king",
        "2 beds",
        "requested",
    )
    assert stored.ref in reply
    cleared = {e["name"] for e in events if e["event"] == "slot" and e["value"] is None}
    assert {"checkin", "checkout", "guests", "room_type", "booking_confirmed"} <= cleared


@pytest.mark.parametrize("enabled", ["0", "1"])
async def test_a_room_request_the_bot_took_alone_may_be_rated(
    database_url: str, monkeypatch: pytest.MonkeyPatch, enabled: str
) -> None:
    from bot.outbound.surveys import ASSISTANT_TEAM, CSAT_QUESTION
    from bot.store.models import OutboundText, Survey

    monkeypatch.setenv("CSAT_AFTER_BOT_TASKS", enabled)
    for phone in (ALEX, SAM):
        if phone == SAM:  # a person was involved today: no question
            with session_scope() as session:
                from bot.store.ownership import hand_to_queue, return_to_bot

                return_to_bot(
                    session, hand_to_queue(session, SAM, "asked", "general").conversation_id
                )
        tracker = make_tracker(phone, "yes", "affirm", slots=booking_slots())
        await run_action(ActionSubmitBooking(), tracker)
        await run_action(ActionSubmitBooking(), tracker)  # replayed: still one question
    with session_scope() as session:
        texts = session.query(OutboundText.phone, OutboundText.body, OutboundText.status).all()
        teams = session.query(Survey.team, Survey.agent_id).all()
    if enabled == "0":
        assert texts == [] and teams == []
    else:
        assert [tuple(t) for t in texts] == [(ALEX, CSAT_QUESTION, "scheduled")]  # in 2 min
        assert [tuple(t) for t in teams] == [(ASSISTANT_TEAM, None)]


async def test_declined_booking_is_not_stored(database_url: str) -> None:
    tracker = make_tracker(ALEX, "no", "deny", slots=booking_slots(booking_confirmed=False))
    messages, _ = await run_action(ActionSubmitBooking(), tracker)
    assert messages[0]["response"] == "utter_booking_discarded"
    from bot.store.bookings import open_requests_for_phone

    with session_scope() as session:
        assert open_requests_for_phone(session, ALEX) == []


async def test_list_and_cancel_requests(database_url: str) -> None:
    messages, _ = await run_action(
        ActionListRequests(), make_tracker(SAM, "my requests", "my_requests")
    )
    listing = texts(messages)[0]
    ref = listing.split(": ", 1)[1].split(" ", 1)[0]
    assert ref.startswith("R") and "king" in listing
    # Alex cannot cancel Sam's request, and sees nothing of it
    messages, _ = await run_action(
        ActionCancelRequest(), make_tracker(ALEX, f"cancel {ref}", "cancel_request")
    )
    assert messages[0]["response"] == "utter_request_not_found"
    messages, _ = await run_action(
        ActionCancelRequest(),
        make_tracker(SAM, f"pls cancel request {ref.lower()}", "cancel_request"),
    )
    assert texts(messages) == [f"OK Sam, request {ref} is cancelled."]
    messages, _ = await run_action(
        ActionListRequests(), make_tracker(SAM, "my requests", "my_requests")
    )
    assert messages[0]["response"] == "utter_no_requests"


async def test_cancel_without_ref_lists_choices(database_url: str) -> None:
    messages, _ = await run_action(
        ActionCancelRequest(), make_tracker(SAM, "cancel my room request", "cancel_request")
    )
    assert messages[0]["response"] == "utter_which_request"


@pytest.mark.parametrize(
    "action, reason", [(ActionHandoff(), "asked"), (ActionDefaultFallback(), "fallback")]
)
async def test_handoff_records_reason_and_team(database_url: str, action, reason) -> None:
    intent = "human_handoff" if reason == "asked" else "nlu_fallback"
    tracker = make_tracker(ALEX, "real person pls", intent)
    tracker.events.insert(
        0, {"event": "user", "parse_data": {"intent": {"name": "track_order"}}, "text": "A1001"}
    )
    messages, events = await run_action(action, tracker)
    assert messages
    with session_scope() as session:
        [handoff] = open_handoffs(session)
    # an ask for a person naming no topic goes to the team for `asked`; a fallback keeps
    # the conversation's topic
    team = "general" if reason == "asked" else "orders"
    assert (handoff.phone, handoff.reason, handoff.team) == (ALEX, reason, team)
    if reason == "fallback":
        assert events == [{"event": "rewind", "timestamp": None}]


@pytest.mark.parametrize(
    ("extra", "team"), [({"handoff_task": "book_room"}, "bookings"), ({}, "general")]
)
async def test_an_ask_for_a_person_follows_its_own_text_not_the_earlier_topic(
    database_url: str, extra: Dict[str, Any], team: str
) -> None:
    tracker = make_tracker(ALEX, "I want to speak to a manager", "human_handoff", extra=extra)
    tracker.events.insert(
        0, {"event": "user", "parse_data": {"intent": {"name": "track_order"}}, "text": "A1001"}
    )
    await run_action(ActionHandoff(), tracker)
    with session_scope() as session:
        [handoff] = open_handoffs(session)
    assert (handoff.reason, handoff.team) == ("asked", team)


def understood(text: str) -> Dict[str, Any]:
    """The parse the NLU pipeline's PersonRequest step leaves for `text` (after a
    classifier that only half believed it was an ask for a person)."""
    from rasa.shared.nlu.training_data.message import Message

    from bot.rasa_ext.nlu.person_request import HANDOFF_TASK, apply_person_request

    ranking = [{"name": "human_handoff", "confidence": 0.55}, {"name": "faq", "confidence": 0.3}]
    message = Message(data={"text": text, "intent": ranking[0], "intent_ranking": ranking})
    apply_person_request(message)
    parse = {"intent": message.get("intent"), "intent_ranking": message.get("intent_ranking")}
    if message.get(HANDOFF_TASK):
        parse[HANDOFF_TASK] = message.get(HANDOFF_TASK)
    return parse


@pytest.mark.parametrize(
    ("text", "configured", "team"),
    [
        ("I want to speak to a manager", None, "general"),
        ("I want to speak to a manager", "asked=frontdesk", "frontdesk"),
        ("I need a human, my order never arrived", None, "orders"),
        ("I need a human, my order never arrived", "asked=frontdesk", "orders"),
    ],
)
async def test_an_ask_for_a_person_goes_to_the_team_for_asks_unless_it_names_a_topic(
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    text: str,
    configured: Optional[str],
    team: str,
) -> None:
    if configured:
        monkeypatch.setenv("HANDOFF_TEAMS", configured)
    parse = understood(text)
    assert parse["intent"]["name"] == "human_handoff"
    extra = {k: v for k, v in parse.items() if k not in ("intent", "intent_ranking")}
    tracker = make_tracker(SAM, text, "human_handoff", extra=extra)
    tracker.events.insert(  # earlier in the chat: the customer's room requests
        0, {"event": "user", "parse_data": {"intent": {"name": "my_requests"}}, "text": "REQUESTS"}
    )
    messages, _ = await run_action(ActionHandoff(), tracker)
    assert messages
    with session_scope() as session:
        [handoff] = open_handoffs(session)
    assert (handoff.phone, handoff.reason, handoff.team) == (SAM, "asked", team)


async def test_faq_answer_from_selector_and_from_button_entity(database_url: str) -> None:
    selected = {"response_selector": {"faq": {"response": {"intent_response_key": "faq/wifi"}}}}
    messages, _ = await run_action(
        ActionAnswerFaq(), make_tracker(ALEX, "wifi pw?", "faq", extra=selected)
    )
    assert "Harborview-Guest" in messages[0]["text"]  # data/faq_answers.yml
    messages, _ = await run_action(
        ActionAnswerFaq(),
        make_tracker(
            ALEX,
            '/faq{"faq_topic":"parking"}',
            "faq",
            [{"entity": "faq_topic", "value": "parking"}],
        ),
    )
    assert messages[0]["text"].startswith("On-site parking is $15/night")


async def test_database_down_gives_polite_reply_and_log(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(safe_action, "DATABASE_RETRY_SECONDS", (0.01, 0.01))
    dispose_engines()
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/nowhere")
    tracker = make_tracker(ALEX, "A1001", "track_order", order_entity("A1001"))
    messages, events = await run_action(ActionTrackOrder(), tracker)
    dispose_engines()
    assert [m.get("response") for m in messages] == ["utter_trouble"]
    assert events == []
    assert any("action_track_order failed" in r.getMessage() for r in caplog.records)
    assert sum("database unavailable" in r.getMessage() for r in caplog.records) == 2


async def test_a_database_back_within_seconds_gets_the_real_answer(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A restart (the first tries fail to connect) is waited out: the real answer, no
    apology, no handoff."""
    monkeypatch.setattr(safe_action, "DATABASE_RETRY_SECONDS", (0.01, 0.01, 0.01))
    real_act, tries = ActionTrackOrder.act, []

    async def act_after_a_restart(self, dispatcher, tracker, domain):  # type: ignore[no-untyped-def]
        tries.append(1)
        if len(tries) < 3:
            raise OperationalError("SELECT", {}, Exception("the database system is starting up"))
        return await real_act(self, dispatcher, tracker, domain)

    monkeypatch.setattr(ActionTrackOrder, "act", act_after_a_restart)
    tracker = make_tracker(ALEX, "A1001", "track_order", order_entity("A1001"))
    messages, _ = await run_action(ActionTrackOrder(), tracker)
    assert len(tries) == 3
    assert "A1001" in texts(messages)[0] and "UPS" in texts(messages)[0], messages
    with session_scope(database_url) as session:
        assert open_handoffs(session) == []
