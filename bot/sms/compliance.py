"""Carrier compliance keywords (STOP/START/HELP), decided before the NLU sees a text."""

from __future__ import annotations

import re
from typing import Optional

from bot.settings import Settings

OPT_OUT_WORDS = {
    "STOP",
    "STOPALL",
    "STOP ALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "REVOKE",
    "OPT OUT",
    "OPTOUT",
    "OPT-OUT",
}
# Always opt-in words, and words that only mean opt-in while the number is opted out.
OPT_IN_WORDS = {"START", "UNSTOP"}
OPT_IN_WHEN_OPTED_OUT = {"YES", "RESUME", "OPT IN", "OPTIN", "OPT-IN"}
HELP_WORDS = {"HELP", "INFO"}

OPT_OUT, OPT_IN, HELP = "optout", "optin", "help"


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[.!]+$", "", (text or "").strip())).upper()


def compliance_keyword(
    text: str, message_intent: Optional[str] = None, opted_out: bool = False
) -> Optional[str]:
    """`optout`, `optin`, `help` or None for an inbound text (whole message, any case)."""
    intent = (message_intent or "").strip().lower()
    if intent in (OPT_OUT, OPT_IN, HELP):
        return intent
    word = _normalise(text)
    if word in OPT_OUT_WORDS:
        return OPT_OUT
    if word in OPT_IN_WORDS or (opted_out and word in OPT_IN_WHEN_OPTED_OUT):
        return OPT_IN
    if word in HELP_WORDS:
        return HELP
    return None


def opt_out_confirmation(settings: Settings) -> str:
    name = settings.business_name
    return f"{name}: you're unsubscribed and will get no more texts. Reply START to resubscribe."


def opt_in_confirmation(settings: Settings) -> str:
    name = settings.business_name
    return f"{name}: you're resubscribed. Reply HELP for help, STOP to opt out."


def help_text(settings: Settings) -> str:
    return (
        f"{settings.business_name}: text your question here, or AGENT for a person. "
        f"Call {settings.business_phone}. Reply STOP to opt out. Msg&data rates may apply."
    )
