"""The clarification band's marker, shared by the NLU component and the actions (no Rasa).

bot.rasa_ext.nlu.confidence_band adds the entity `implausible_guess` to a not-understood text whose
best guess is not worth a "did you mean" (out_of_scope on top, or below the band).
"""

from __future__ import annotations

from typing import Any, Dict

IMPLAUSIBLE = "implausible_guess"


def is_implausible(parse_data: Dict[str, Any]) -> bool:
    """True when a parse result (or a tracker's latest message) carries the marker."""
    return any(e.get("entity") == IMPLAUSIBLE for e in parse_data.get("entities") or [])
