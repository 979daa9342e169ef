"""The desk's own texts to customers stay one SMS segment whatever the names."""

from __future__ import annotations

import pytest

from bot.desk.transfer_texts import first_name, transfer_text
from bot.sms.reassure import reassurance_text
from bot.sms.segments import sms_info


@pytest.mark.parametrize(
    "text",
    [
        transfer_text("bookings"),
        transfer_text("a-team-name-that-is-as-long-as-forty-ch"),
        transfer_text(agent_name="Sam Ortiz"),
        transfer_text(agent_name="Zoë-Åsa-Maximiliana-Bartholomew Ångström"),  # UCS-2
        reassurance_text(1),
        reassurance_text(12345),
    ],
)
def test_one_segment(text: str) -> None:
    assert sms_info(text).segments == 1, text


def test_wording() -> None:
    assert transfer_text("bookings") == (
        "I'm passing you to our bookings team; someone will text you shortly."
    )
    assert transfer_text(agent_name="Sam Ortiz") == (
        "I'm passing you to Sam; they'll text you shortly."
    )
    assert first_name("  ") == "a colleague"
    assert reassurance_text(2).startswith("Thanks, we've got your message. You're #2 in line")
