"""The wording of texts the business starts, from a file designers edit (data/notifications.yml).

A template is a text with named fields in braces, in two variants: `text` (no note) and,
optionally, `with_note` (the staff's {note} in it). Loading checks every template: only
known fields, and filled with every field at its longest it stays within its `segments`
(the segment counter of bot/sms/segments.py decides, so one character outside GSM-7
counts as UCS-2).
A bad file is refused with a message naming the file and the template; filling checks the
real text again, so a note with costly characters is refused, never sent long.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Sequence

import yaml

from bot.settings import PROJECT_ROOT
from bot.sms.segments import sms_info
from bot.text.names import FIRST_NAME_LENGTH
from bot.text.stay_span import SPAN_MAX_LENGTH

DEFAULT_PATH = PROJECT_ROOT / "data" / "notifications.yml"
BOOKING_CONFIRMED = "booking_confirmed"
BOOKING_DECLINED = "booking_declined"
BOOKING_REMINDER = "booking_reminder"
ORDER_SHIPPED, ORDER_DELAYED, ORDER_DELIVERED = "order_shipped", "order_delayed", "order_delivered"
ORDER_TEMPLATES = (ORDER_SHIPPED, ORDER_DELAYED, ORDER_DELIVERED)
BOOKING_TEMPLATES = (BOOKING_CONFIRMED, BOOKING_DECLINED, BOOKING_REMINDER)
REQUIRED = (BOOKING_CONFIRMED, BOOKING_DECLINED)  # the desk's request outcomes
ALL_TEMPLATES = BOOKING_TEMPLATES + ORDER_TEMPLATES  # the console's server needs them all
MAX_SEGMENTS = 2  # texts the business starts stay short: each segment is billed
NOTE_MAX_LENGTH = 160
# The longest each field can be (the business name is filled in as it is).
FIELDS: Dict[str, int] = {
    "ref": len("R9999999"),
    "guests": len("99 guests"),
    "span": SPAN_MAX_LENGTH,
    "room": 30,  # booking_requests.room_type
    "note": NOTE_MAX_LENGTH,
    "first_name": FIRST_NAME_LENGTH,
    "order": 16,  # orders.number
    "carrier": 40,  # orders.carrier
    "tracking": 60,  # orders.tracking_number
    "date": len("Wed Dec 30"),  # an order's eta, a stay's first night
}
BUSINESS = "business"
_VARIANTS = ("text", "with_note")


class TemplateError(ValueError):
    """A template file or a filled text that cannot be used (the message says why)."""


@dataclass(frozen=True)
class Template:
    name: str
    text: str
    with_note: Optional[str]  # None: this template takes no note
    segments: int


def _fields_of(name: str, variant: str, text: str) -> set:
    """The field names a text uses; anything but plain {name} is refused."""
    found = set()
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as problem:
        raise TemplateError(f"template {name!r} ({variant}): {problem}") from None
    for _literal, field, spec, conversion in parts:
        if field is None:
            continue
        if not field or spec or conversion:
            raise TemplateError(
                f"template {name!r} ({variant}): write fields as {{name}}, not {{{field}"
                f"{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}}"
            )
        if field != BUSINESS and field not in FIELDS:
            known = ", ".join(sorted([BUSINESS, *FIELDS]))
            raise TemplateError(
                f"template {name!r} ({variant}): unknown field {{{field}}} (known: {known})"
            )
        found.add(field)
    return found


def _longest(text: str, business: str) -> str:
    """The text with every field at its longest (plain GSM-7 letters)."""
    values = {field: "x" * size for field, size in FIELDS.items()}
    return text.format(business=business, **values)


def _check(name: str, variant: str, text: str, segments: int, business: str) -> None:
    fields = _fields_of(name, variant, text)
    if variant == "text" and "note" in fields:
        raise TemplateError(f"template {name!r} (text): {{note}} belongs in with_note only")
    if variant == "with_note" and "note" not in fields:
        raise TemplateError(f"template {name!r} (with_note): it must contain {{note}}")
    info = sms_info(_longest(text, business))
    if info.segments > segments:
        why = (
            " (it has characters outside GSM-7, so the whole text is sent as UCS-2:"
            " 70 characters a segment)"
            if info.encoding != "GSM-7"
            else ""
        )
        raise TemplateError(
            f"template {name!r} ({variant}) can take {info.segments} segments with every "
            f"field at its longest, over its budget of {segments}{why}"
        )


def _template(name: str, spec: Any, business: str) -> Template:
    if not isinstance(spec, Mapping):
        raise TemplateError(f"template {name!r}: expected segments, text (and with_note)")
    unknown = set(spec) - {"segments", *_VARIANTS}
    if unknown:
        raise TemplateError(
            f"template {name!r}: unknown keys {', '.join(sorted(map(str, unknown)))}"
        )
    segments = spec.get("segments")
    if type(segments) is not int or not 1 <= segments <= MAX_SEGMENTS:
        raise TemplateError(
            f"template {name!r}: segments must be a whole number from 1 to {MAX_SEGMENTS}"
        )
    texts: Dict[str, Optional[str]] = {"with_note": None}
    for variant in _VARIANTS:
        text = spec.get(variant)
        if variant == "with_note" and text is None:
            continue  # optional: a template without a note
        if not isinstance(text, str) or not text.strip():
            raise TemplateError(f"template {name!r}: {variant} must be a non-empty text")
        _check(name, variant, text.strip(), segments, business)
        texts[variant] = text.strip()
    return Template(name, texts["text"], texts["with_note"], segments)


class Templates:
    """The checked templates, filled for one text at a time."""

    def __init__(self, templates: Mapping[str, Template], business: str) -> None:
        self.templates = dict(templates)
        self.business = business

    def __contains__(self, name: object) -> bool:
        return name in self.templates

    def fill(self, name: str, note: Optional[str] = None, **fields: str) -> str:
        """The text of template `name`; TemplateError if a field is missing or too long,
        or the text would go over the template's segments (e.g. a note's characters)."""
        template = self.templates.get(name)
        if template is None:
            raise TemplateError(f"no template {name!r}")
        note = (note or "").strip() or None
        values = dict(fields, note=note or "")
        for field, value in values.items():
            limit = FIELDS.get(field)
            if limit is None:
                raise TemplateError(f"template {name!r}: unknown field {field!r}")
            if len(value) > limit:
                raise TemplateError(f"the {field} is longer than {limit} characters")
        if note and template.with_note is None:
            raise TemplateError(f"template {name!r} takes no note")
        text = template.with_note if note else template.text
        try:
            filled = text.format(business=self.business, **values)
        except KeyError as missing:
            raise TemplateError(f"template {name!r}: no value for {missing}") from None
        info = sms_info(filled)
        if info.segments > template.segments:
            raise TemplateError(
                f"the text would take {info.segments} SMS segments ({info.encoding}), over "
                f"the {template.segments} allowed: shorten the note or use plain characters"
            )
        return filled


def parse_templates(
    data: Any, business: str, source: str = "templates", required: Sequence[str] = REQUIRED
) -> Templates:
    """Checked templates from the file's parsed content; TemplateError naming `source`."""
    try:
        if not isinstance(data, Mapping) or not isinstance(data.get("notifications"), Mapping):
            raise TemplateError("expected a mapping `notifications:` of templates")
        found = {
            str(name): _template(str(name), spec, business)
            for name, spec in data["notifications"].items()
        }
        missing = [name for name in required if name not in found]
        if missing:
            raise TemplateError(f"missing templates: {', '.join(missing)}")
    except TemplateError as problem:
        raise TemplateError(f"{source}: {problem}") from None
    return Templates(found, business)


def load_templates(
    business: str, path: Path = DEFAULT_PATH, required: Sequence[str] = REQUIRED
) -> Templates:
    """Read and check the templates file; TemplateError with a clear message if it is bad."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as problem:
        raise TemplateError(f"{path}: cannot read it ({problem.strerror})") from None
    except yaml.YAMLError as problem:
        raise TemplateError(f"{path}: not valid YAML ({problem})") from None
    return parse_templates(data, business, str(path), required)
