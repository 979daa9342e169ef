"""data/faq_answers.yml: parsed with file:line errors, reread on change, last good kept."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from bot.designer.faq_answers import FaqAnswerBook, FaqAnswersError, load_faq_answers
from bot.settings import PROJECT_ROOT

GOOD = """faq_answers:
  wifi:
    description: wifi
    answer: "Network Guest, password on your key card."
"""


def write(path: Path, text: str, bump: int) -> None:
    path.write_text(text)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + bump * 1_000_000_000))


def test_the_real_file_has_every_topic() -> None:
    answers = load_faq_answers(PROJECT_ROOT / "data" / "faq_answers.yml")
    assert len(answers) == 14 and answers["wifi"].description == "wifi"
    assert answers["parking"].answer.startswith("On-site parking is $15/night")


@pytest.mark.parametrize(
    "text, line, message",
    [
        ("faq_answers:\n  wifi: [\n", 3, "not valid YAML"),
        ("answers: {}\n", 1, "expected 'faq_answers:'"),
        ("faq_answers:\n  wifi:\n    answer: hi\n", 2, "topic 'wifi' has no description"),
        ("faq_answers:\n  Wi-Fi:\n    answer: a\n    description: b\n", 2, "is not like"),
        (GOOD + "    colour: red\n", 2, "unknown fields: colour"),
    ],
)
def test_a_broken_file_is_named_at_its_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = tmp_path / "answers.yml"
    path.write_text(text)
    with pytest.raises(FaqAnswersError) as raised:
        load_faq_answers(path)
    assert str(raised.value).startswith(f"{path}:{line}: ") and message in str(raised.value)


def test_the_book_rereads_an_edit_and_keeps_the_last_good_answers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "answers.yml"
    write(path, GOOD, 0)
    book = FaqAnswerBook(path)
    assert book.answer("wifi") == "Network Guest, password on your key card."
    write(path, GOOD.replace("Network Guest", "Network Harbor"), 1)
    assert book.answer("wifi") == "Network Harbor, password on your key card."
    with caplog.at_level(logging.ERROR, logger="bot.designer.faq_answers"):
        write(path, "faq_answers:\n  wifi:\n    answer: [broken\n", 2)
        assert book.answer("wifi") == "Network Harbor, password on your key card."
    assert "keeping the last good ones" in caplog.text and str(path) in caplog.text
    assert book.description("wifi") == "wifi" and book.answer("pets") is None


def test_the_book_refuses_an_answer_over_the_segment_budget_and_keeps_the_last_good(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "answers.yml"
    write(path, GOOD, 0)
    book = FaqAnswerBook(path, budget=2)
    assert book.answer("wifi") == "Network Guest, password on your key card."
    # 2 segments of GSM-7 hold 306 characters: 306 fit, 307 do not
    fits = GOOD.replace("Network Guest, password on your key card.", "x" * 306)
    write(path, fits, 1)
    assert book.answer("wifi") == "x" * 306
    too_long = GOOD.replace("wifi:", "parking:") + (
        f'  wifi:\n    description: wifi\n    answer: "{"y" * 307}"\n'
    )
    with caplog.at_level(logging.ERROR, logger="bot.designer.faq_answers"):
        write(path, too_long, 2)
        assert book.answer("wifi") == "x" * 306 and book.answer("parking") is None
    assert "keeping the last good ones" in caplog.text
    assert (
        f"{path}:5: FAQ answer 'wifi' takes 3 SMS segments (307 characters); the budget is 2"
        in caplog.text
    )
    with pytest.raises(FaqAnswersError):
        load_faq_answers(path, budget=2)
    assert load_faq_answers(path)["wifi"].answer == "y" * 307  # only parsed: make check's job
    # the next good edit is live again
    write(path, too_long.replace("y" * 307, "Network Harbor"), 3)
    assert book.answer("wifi") == "Network Harbor" and book.answer("parking")
