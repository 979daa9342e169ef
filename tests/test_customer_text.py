"""Customer text in replies: names folded to GSM-7, echoes cut in UTF-16 units."""

from __future__ import annotations

from typing import Optional

import pytest

from bot.sms.customer_text import fold_gsm7, fold_name, fold_values, shorten, utf16_length
from bot.sms.segments import GSM7, GSM7_BASIC, encoding_of, sms_info


@pytest.mark.parametrize(
    "name, folded",
    [
        ("Zoë", "Zoe"),
        ("Zoë\U0001f338", "Zoe"),  # an emoji is dropped
        ("D\u2019Arcy", "D'Arcy"),  # curly apostrophe
        ("Łukasz", "Lukasz"),
        ("François", "Francois"),
        ("Nguyễn", "Nguyen"),
        ("José", "José"),  # é, Ñ, Ü, Å are GSM-7 already: kept
        ("Ñuño", "Ñuño"),
        ("[Bob]", "(Bob)"),  # extension characters (two septets) become basic ones
        ("Σοφία", None),  # letters with no GSM-7 form: no name rather than a mangled one
        ("ゆき", None),
        ("\U0001f600", None),
    ],
)
def test_fold_name(name: str, folded: Optional[str]) -> None:
    assert fold_name(name) == folded
    if folded:
        assert sms_info(f"Hi {folded}!").encoding == GSM7


def test_every_bmp_character_folds_to_basic_gsm7() -> None:
    for code in range(0x10000):
        if 0xD800 <= code <= 0xDFFF:
            continue
        folded = fold_gsm7(chr(code))
        assert set(folded) <= GSM7_BASIC, (hex(code), folded)


def test_fold_values_folds_the_declared_placeholders_only() -> None:
    values = fold_values({"first_name": "Zoë", "note": "crème brûlée \U0001f370", "ref": "R1"})
    assert values == {"first_name": "Zoe", "note": "crème brûlée \U0001f370", "ref": "R1"}


def test_shorten_counts_utf16_units() -> None:
    assert utf16_length("a\U0001f600ë") == 4  # an emoji is a surrogate pair
    assert shorten("extra   towels", 20) == "extra towels"
    cut = shorten("towels \U0001f600\U0001f600\U0001f600\U0001f600 and a crib please", 20)
    assert cut == "towels \U0001f600\U0001f600\U0001f600\U0001f600..."
    assert utf16_length(cut) <= 20
    for limit in range(5, 40):
        text = shorten("\U0001f600" * 30, limit)
        assert utf16_length(text) <= limit and encoding_of(text) != GSM7
