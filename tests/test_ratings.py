"""The survey answer parser (bot/text/ratings.py): what starts with a rating, what is a
request that happens to start with a number."""

from __future__ import annotations

import pytest

from bot.text.ratings import CSAT, NPS, Rating, parse_rating, request_in


@pytest.mark.parametrize(
    "text, score, comment",
    [
        ("5", 5, ""),
        ("  1 ", 1, ""),
        ("4 thanks, quick and friendly", 4, "thanks, quick and friendly"),
        ("4, quick and friendly", 4, "quick and friendly"),
        ("5!", 5, ""),
        ("5!!! loved it", 5, "loved it"),
        ("3.", 3, ""),
        ("2 - slow answer", 2, "slow answer"),
        ("4: the agent was kind", 4, "the agent was kind"),
        ("4/5", 4, ""),
        ("4 / 5 good", 4, "good"),
        ("4 out of 5", 4, ""),
        ("5 stars", 5, ""),
        ("1 star. rude", 1, "rude"),
        ("5 thanks, also where is my order A1001", 5, "thanks, also where is my order A1001"),
        ("4 the agent was lovely", 4, "the agent was lovely"),
        ("5 very helpful", 5, "very helpful"),
        ("2 not great", 2, "not great"),
        ("4 👍", 4, "👍"),
        ("1 nobody fixed my booking", 1, "nobody fixed my booking"),
        ("2 took forever", 2, "took forever"),
        ("3 meh", 3, "meh"),
        ("great", 5, ""),
        ("Great!", 5, ""),
        ("great thanks", 5, "thanks"),
        ("good, a bit slow", 4, "a bit slow"),
        ("ok", 3, ""),
        ("OK.", 3, ""),
        ("bad service", 2, "service"),
        ("terrible!! nobody answered", 1, "nobody answered"),
        ("😀", 5, ""),
        ("👍", 4, ""),
        ("👍👍 thanks", 4, "thanks"),
        ("😡 took forever", 1, "took forever"),
        ("👎", 1, ""),
        ("⭐⭐⭐⭐", 4, ""),
        ("⭐️⭐️⭐️ fine", 3, "fine"),
        ("★★★★★", 5, ""),
        ("❤️", 5, ""),
    ],
)
def test_csat_ratings(text: str, score: int, comment: str) -> None:
    assert parse_rating(text, CSAT) == Rating(score, comment)


@pytest.mark.parametrize(
    "text",
    [
        "2 beds in my room",
        "2 beds please",
        "2 king size please",
        "1 queen bed",
        "2 extra towels",
        "3 people dec 5",
        "5 dec to 8 dec",
        "1 bedroom",
        "4 guests",
        "2 pm checkout",
        "1 more thing",
        "3 nights from dec 5",
        "2 adults and 1 child",
        "4th of july booking",
        "45",
        "6",
        "0",
        "4.5",
        "5am checkout?",
        "10",
        "good morning, where is my order",
        "ok where is my order",
        "not good",
        "where is my order A1001",
        "hi",
        "",
        "⭐⭐⭐⭐⭐⭐",
        "A1001",
    ],
)
def test_not_csat_ratings(text: str) -> None:
    assert parse_rating(text, CSAT) is None


@pytest.mark.parametrize(
    "text, score, comment",
    [
        ("9", 9, ""),
        ("10", 10, ""),
        ("0", 0, ""),
        ("10!", 10, ""),
        ("7, slow sometimes", 7, "slow sometimes"),
        ("9 great staff", 9, "great staff"),
        ("8/10", 8, ""),
    ],
)
def test_nps_scores(text: str, score: int, comment: str) -> None:
    assert parse_rating(text, NPS) == Rating(score, comment)


@pytest.mark.parametrize("text", ["11", "2 beds", "great", "😀", "100", "1 more thing"])
def test_not_nps_scores(text: str) -> None:
    assert parse_rating(text, NPS) is None


@pytest.mark.parametrize(
    "comment, asked",
    [
        ("thanks, also where is my order A1001", "where is my order A1001"),
        ("thanks! can I book a room for dec 5", "can I book a room for dec 5"),
        ("great. A1002 status", "A1002 status"),
        ("loved it but is there parking?", "is there parking?"),
    ],
)
def test_requests_inside_comments(comment: str, asked: str) -> None:
    assert request_in(comment) == asked


@pytest.mark.parametrize(
    "comment", ["", "thanks, quick and friendly", "the agent was lovely", "took forever"]
)
def test_comments_without_requests(comment: str) -> None:
    assert request_in(comment) is None
