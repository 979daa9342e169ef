"""Bot output as SMS text: one text per turn, buttons as numbered choices, and back."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Sequence, Tuple

Button = Dict[str, str]


def render_choices(text: str, buttons: Sequence[Button]) -> str:
    """'Did you mean X?' + buttons -> 'Did you mean X? 1) Yes  2) No'."""
    if not buttons:
        return text
    choices = "  ".join(f"{i}) {b.get('title', '')}" for i, b in enumerate(buttons, start=1))
    return f"{text}\n{choices}" if text else choices


def join_turn(messages: Sequence[Dict[str, Any]]) -> Tuple[str, List[Button]]:
    """All bot messages of one turn as one SMS text, plus the buttons it offers."""
    parts: List[str] = []
    buttons: List[Button] = []
    for message in messages:
        text = (message.get("text") or "").strip()
        if message.get("buttons"):
            buttons = [
                {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
                for b in message["buttons"]
            ]
            text = render_choices(text, buttons)
        elif message.get("image"):
            text = f"{text} {message['image']}".strip()
        if text and (not parts or parts[-1] != text):
            parts.append(text)
    return "\n".join(parts), buttons


def resolve_choice(text: str, buttons: Sequence[Button]) -> Optional[str]:
    """The payload a reply picks: "1", "#2", "2)" or a button's title ("yes")."""
    if not buttons:
        return None
    cleaned = (text or "").strip().lower()
    number = re.fullmatch(r"#?\s*(\d{1,2})\s*[).]?", cleaned)
    if number:
        index = int(number.group(1)) - 1
        return buttons[index]["payload"] if 0 <= index < len(buttons) else None
    cleaned = re.sub(r"[.!\s]+$", "", cleaned)
    for button in buttons:
        if cleaned == button.get("title", "").strip().lower():
            return button["payload"]
    return None
