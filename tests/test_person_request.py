"""Explicit asks for a person (bot/rasa_ext/person_request.py): many that ask, many that don't."""

from __future__ import annotations

import pytest

from bot.rasa_ext.person_request import asks_for_person, has_request_cue, task_in_text

ASKS = [
    "I need a human please, my order never arrived",
    "can I talk to a real person about my booking",
    "get me an agent, my package is lost",
    "pls connect me to someone my refund is wrong",
    "i want to speak to a manager",
    "transfer me to a person",
    "can you transfer me",
    "can i speak w someone",
    "talk 2 sum1 real",
    "put me through to the front desk",
    "connect me with customer service",
    "i wanna talk to a human, this is about my reservation",
    "I'd like to speak with a representative about a refund",
    "need a real person asap my package says delivered but isnt here",
    "can i get a live agent",
    "human please",
    "real person pls",
    "A real person please.",
    "agent please, where is my parcel",
    "let me talk to someone about my booking",
    "could you connect me to a staff member",
    "i need to talk to somebody",
    "I want a human",
    "need a rep",
    "get me a supervisor now",
    "speak to a human",
    "let me speak to customer support",
    "can i chat with a real agent",
    "i want to speak to reception",
    "person not bot",
    "no bot, human",
    "not a bot please a person",
    "i dont want to text a bot, get me a person",
    "I don't need a room, I need a person",
    "get a real person on here",
    "pass me to an operator please",
    "hand me over to a human",
    "MY ORDER IS WRONG. GET ME A MANAGER",
    "i would like to talk to an actual employee about my stay",
    "can i have a real person text me back about order A1001",
    "I’d like a real person",
    "i want to see the manager",
]

NOT_ASKS = [
    "my husband wants to know where the order is",
    "the person at the front desk was nice",
    "the agent said my package would arrive today",
    "i spoke to a person yesterday about my booking",
    "talked to an agent already, still no package",
    "book a room for 2 people",
    "i need a room for one person",
    "i want a room for a person with a dog",
    "transfer $50 to my bank account",
    "transfer money from savings to checking",
    "connect me to the wifi",
    "how do i connect to the wifi",
    "can i get a room with a view",
    "the staff were great",
    "I don't need a person, just the tracking number",
    "no need to talk to anyone, just cancel R1",
    "my manager booked the room for me",
    "is the front desk open 24 hours",
    "how many people can stay in a king room",
    "the delivery person left it at the wrong door",
    "who is the manager of the hotel",
    "can my friend pick up the package for me",
    "i need 2 beds in my room",
    "I want a refund",
    "someone stole my package",
    "the customer service was slow",
    "tell the manager thanks",
    "i sent a text to the front desk",
    "are you a bot",
    "is this a real person?",
    "what's a good gift for a person who has everything",
    "my package was signed for by someone else",
    "a person called me about my order",
    "the human resources department",
    "I don’t need a person, thanks",
    "i won't talk to a bot or a human, just give me the tracking",
]


@pytest.mark.parametrize("text", ASKS)
def test_explicit_asks_for_a_person(text: str) -> None:
    assert asks_for_person(text)


@pytest.mark.parametrize("text", NOT_ASKS)
def test_mentions_are_not_asks(text: str) -> None:
    assert not asks_for_person(text)


@pytest.mark.parametrize(
    "text",
    [
        "the person at the front desk was nice",
        "the agent said my package would arrive today",
        "my husband works at the front desk of another hotel",
    ],
)
def test_statements_about_people_have_no_request_cue(text: str) -> None:
    assert not has_request_cue(text)


@pytest.mark.parametrize(
    "text",
    ["operator", "live agent", "escalate this", "is there a person who can help", "call me"],
)
def test_short_or_asking_texts_have_a_request_cue(text: str) -> None:
    assert has_request_cue(text)


@pytest.mark.parametrize(
    ("text", "task"),
    [
        ("I need a human please, my order never arrived", "track_order"),
        ("get me an agent, my package is lost", "track_order"),
        ("pls connect me to someone my refund is wrong", "track_order"),
        ("can I talk to a real person about my booking", "book_room"),
        ("a person please, my room request for dec 5", "book_room"),
        ("talk to a human", None),
    ],
)
def test_the_task_named_beside_the_ask(text: str, task: str) -> None:
    assert task_in_text(text) == task


@pytest.mark.parametrize(
    "text",
    [
        "transfer me to the irs",
        "speak to someone at the dmv",
        "transfer me to my doctor",
        "i need a human resources contact for my job",
        "i'm a human not a robot lol",
        "human?",
    ],
)
def test_out_of_scope_and_bot_questions_that_name_people_are_not_asks(text: str) -> None:
    assert not asks_for_person(text)
