"""The notification templates designers edit (data/notifications.yml): the file is checked
against the segment counter with every field at its longest, and a bad one is refused with
a message naming the template."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.outbound.templates import (
    DEFAULT_PATH,
    FIELDS,
    NOTE_MAX_LENGTH,
    TemplateError,
    load_templates,
    parse_templates,
)
from bot.settings import Settings
from bot.sms.segments import sms_info

BUSINESS = Settings().business_name
CONFIRMED = "{business}: your room request {ref} ({guests}, {span}) is confirmed."
DECLINED = "{business}: sorry, your room request {ref} can't be confirmed."


def write(tmp_path: Path, confirmed: dict, declined: dict | None = None) -> Path:
    path = tmp_path / "notifications.yml"
    data = {
        "notifications": {
            "booking_confirmed": confirmed,
            "booking_declined": declined
            or {"segments": 2, "text": DECLINED, "with_note": DECLINED + " {note}"},
        }
    }
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def refused(path: Path, business: str = BUSINESS) -> str:
    with pytest.raises(TemplateError) as problem:
        load_templates(business, path)
    return str(problem.value)


def test_the_shipped_file_fits_its_budgets_with_every_field_at_its_longest() -> None:
    templates = load_templates(BUSINESS)
    longest = {field: "x" * size for field, size in FIELDS.items() if field != "note"}
    for name in ("booking_confirmed", "booking_declined"):
        plain = templates.fill(name, **longest)
        noted = templates.fill(name, note="n" * NOTE_MAX_LENGTH, **longest)
        assert sms_info(plain).segments <= 2 and sms_info(noted).segments <= 2
        assert sms_info(noted).encoding == "GSM-7"
    text = templates.fill(
        "booking_confirmed",
        note="Late check-in is fine",
        ref="R2",
        guests="2 guests",
        span="Dec 12-14",
        room="king",
    )
    assert text == (
        f"{BUSINESS}: your room request R2 (2 guests, Dec 12-14) is confirmed. "
        "Note: Late check-in is fine"
    )
    assert DEFAULT_PATH.name == "notifications.yml" and DEFAULT_PATH.parent.name == "data"


def test_a_ucs2_character_is_refused_naming_the_template(tmp_path: Path) -> None:
    curly = CONFIRMED.replace("room request", "room’s request")  # one curly apostrophe
    path = write(tmp_path, {"segments": 2, "text": curly, "with_note": curly + " Note: {note}"})
    message = refused(path)
    assert "'booking_confirmed'" in message and str(path) in message
    assert "UCS-2" in message and "over its budget of 2" in message


def test_a_text_that_grows_past_its_budget_with_long_fields_is_refused(tmp_path: Path) -> None:
    # fits one segment for R2 and a short span, not for the longest ref, span and note
    path = write(
        tmp_path,
        {"segments": 1, "text": CONFIRMED, "with_note": CONFIRMED + " Note: {note}"},
    )
    message = refused(path)
    assert "template 'booking_confirmed' (with_note) can take 2 segments" in message
    assert "over its budget of 1" in message


def test_a_long_business_name_is_counted(tmp_path: Path) -> None:
    path = write(tmp_path, {"segments": 2, "text": CONFIRMED, "with_note": CONFIRMED + " {note}"})
    assert load_templates("Inn", path)
    assert "'booking_confirmed' (with_note)" in refused(path, business="B" * 120)


@pytest.mark.parametrize(
    "spec, expected",
    [
        (
            {"segments": 2, "text": CONFIRMED + " {nights}", "with_note": "{note}"},
            "unknown field {nights}",
        ),
        (
            {"segments": 2, "text": CONFIRMED + " {note}", "with_note": "{note}"},
            "belongs in with_note only",
        ),
        ({"segments": 2, "text": CONFIRMED, "with_note": CONFIRMED}, "must contain {note}"),
        ({"segments": 3, "text": CONFIRMED, "with_note": "{note}"}, "segments must be"),
        ({"segments": 2, "text": "", "with_note": "{note}"}, "text must be a non-empty text"),
        ({"segments": 2, "text": "{ref!r}", "with_note": "{note}"}, "write fields as {name}"),
        ({"segments": 2, "text": "{ref", "with_note": "{note}"}, "'booking_confirmed' (text)"),
        ({"segments": 2, "text": CONFIRMED, "with_note": "{note}", "sms": 1}, "unknown keys sms"),
    ],
)
def test_mistakes_are_named(tmp_path: Path, spec: dict, expected: str) -> None:
    message = refused(write(tmp_path, spec))
    assert expected in message and "booking_confirmed" in message


def test_a_missing_template_or_a_broken_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notifications.yml"
    path.write_text("notifications:\n  booking_confirmed:\n    segments: 1\n", encoding="utf-8")
    assert "template 'booking_confirmed': text must be" in refused(path)
    path.write_text("notifications: {}\n", encoding="utf-8")
    assert "missing templates: booking_confirmed, booking_declined" in refused(path)
    path.write_text("notifications: [\n", encoding="utf-8")
    assert "not valid YAML" in refused(path)
    assert "cannot read it" in refused(tmp_path / "nothing.yml")
    assert "expected a mapping `notifications:`" in str(
        pytest.raises(TemplateError, parse_templates, ["x"], BUSINESS).value
    )


def test_filling_refuses_what_would_go_over_the_budget() -> None:
    templates = load_templates(BUSINESS)
    fields = {"ref": "R2", "guests": "2 guests", "span": "Dec 12-14", "room": "king"}
    with pytest.raises(TemplateError, match="longer than 160"):
        templates.fill("booking_declined", note="n" * (NOTE_MAX_LENGTH + 1), **fields)
    with pytest.raises(TemplateError, match="UCS-2"):  # an emoji makes it UCS-2: 3 segments
        templates.fill("booking_declined", note="Sorry 😞 " + "n" * 120, **fields)
    with pytest.raises(TemplateError, match="no template"):
        templates.fill("booking_maybe", **fields)


def test_the_console_does_not_start_with_templates_that_do_not_fit(tmp_path: Path) -> None:
    """A business name too long for the templates stops `python -m bot.desk` at once, with
    a message naming the template (the file is read when the console starts)."""
    import subprocess
    import sys

    from bot.launcher import child_env, free_port
    from bot.settings import PROJECT_ROOT

    env = child_env(
        {"DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}", "BUSINESS_NAME": "Inn " * 40}
    )
    done = subprocess.run(
        [sys.executable, "-m", "bot.desk", "--port", str(free_port()), "--no-maintenance"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr[-2000:]
    assert "notifications.yml: template 'booking_confirmed' (" in done.stderr
    assert "over its budget of 2" in done.stderr


SHIPPED = "{business}: hi {first_name}, order {order} shipped with {carrier}, tracking {tracking}."


def with_shipped(spec: dict) -> dict:
    confirmed = {"segments": 2, "text": CONFIRMED, "with_note": CONFIRMED + " {note}"}
    declined = {"segments": 2, "text": DECLINED, "with_note": DECLINED + " {note}"}
    data = {"booking_confirmed": confirmed, "booking_declined": declined}
    return {"notifications": {**data, "order_shipped": spec}}


def test_the_project_file_has_every_notification_and_order_texts_fill() -> None:
    from bot.outbound.templates import ALL_TEMPLATES

    templates = load_templates(BUSINESS, required=ALL_TEMPLATES)
    text = templates.fill(
        "order_shipped", first_name="Alex", order="A1001", carrier="UPS", tracking="1Z9"
    )
    assert "A1001" in text and "Reply TRACK" in text
    with pytest.raises(TemplateError, match="takes no note"):
        templates.fill("order_shipped", note="hi", order="A1", carrier="", tracking="")


def test_an_order_template_over_its_budget_is_refused() -> None:
    assert parse_templates(with_shipped({"segments": 2, "text": SHIPPED}), BUSINESS)
    with pytest.raises(TemplateError) as refused:
        parse_templates(with_shipped({"segments": 1, "text": SHIPPED}), BUSINESS, "f.yml")
    message = str(refused.value)
    assert "f.yml" in message and "'order_shipped' (text)" in message
    assert "over its budget of 1" in message
    curly = SHIPPED.replace("shipped", "shipped \u2019")  # one curly quote: UCS-2
    with pytest.raises(TemplateError, match="UCS-2"):
        parse_templates(with_shipped({"segments": 2, "text": curly}), BUSINESS)
