"""Explicit requests for a person ("get me an agent, my package is lost"), found by patterns.

Pure functions used by the NLU component bot.rasa_ext.nlu.person_request. An explicit ask wins over
a task named in the same text; a text that merely mentions people ("the person at the
front desk was nice") is not an ask.
"""

from __future__ import annotations

import re
from typing import Optional

# Who a texter may ask for. "someone"/"somebody" only after talk/connect-style verbs.
_ADJ = r"(?:(?:real|live|actual|human|proper|customer\s+service|support|hotel|store|shop)\s+)*"
_HUMAN = r"humans?(?!\s+resources)"
_WHO = (
    rf"(?:{_HUMAN}|persons?|people|agents?|representatives?|reps?|managers?|supervisors?|"
    r"operators?|staff(?:\s+members?)?|employees?|receptionists?|(?:the\s+)?front\s+desk|"
    r"reception|customer\s+(?:service|support|care)|support\s+team|"
    r"some\s*(?:one|body)\s+real|some\s*(?:one|body)|any\s*(?:one|body)|sum1|some1)"
)
_ROLE = rf"(?:{_HUMAN}|persons?|agents?|representatives?|reps?|managers?|supervisors?|operators?)"
_REAL_ONE = r"(?:some\s*(?:one|body)\s+real|real\s+some\s*(?:one|body))"
_DET = r"(?:(?:a|an|the|ur|your|some|1|one)\s+)?"
# "someone at the dmv" is somebody else's person; "someone at the front desk" is ours.
_OURS = r"(?:the\s+|this\s+|ur\s+|your\s+)?(?:hotel|shop|store|front|desk|reception)\b"
_ELSEWHERE = rf"(?!\s+(?:at|from)\s+(?!{_OURS}))"
_TARGET = rf"{_DET}{_ADJ}{_WHO}\b{_ELSEWHERE}"
_CHATTY = r"(?:talk|speak|chat)"
_PLEASE = r"(?:\s+(?:please|pls|plz|now|asap|thanks|thx))*"

_ASKS = [
    # talk / speak / chat to|with a person (also "talk 2 sum1 real")
    rf"\b{_CHATTY}\s+(?:to|with|w|2)\s+{_TARGET}",
    # connect / transfer / put me through / pass me / hand me over (to a person)
    rf"\b(?:connect|transfer|pass|forward|put|hand)\s+(?:me|us|this)\s+"
    rf"(?:(?:over|through|thru|on)\s+)?(?:to|with)\s+{_TARGET}",
    r"\btransfer\s+(?:me|us)(?:\s+(?:please|pls|plz|now|asap))*\s*(?:$|[,.;:!?])",
    # get me / give me / find me a person
    rf"\b(?:get|give|find|bring)\s+(?:me|us)\s+{_TARGET}",
    rf"\bget\s+{_DET}{_ADJ}{_WHO}\s+(?:on|in)\s+(?:here|the\s+(?:line|phone|chat))",
    # need / want / would like / can i have a human
    r"\b(?:need|want|wanna|would\s+like|[’']?d\s+like|prefer|request|"
    r"(?:can|could|may)\s+i\s+(?:have|get))\s+"
    rf"(?:to\s+(?:{_CHATTY}|reach|contact|see)\s+(?:to\s+|with\s+)?)?"
    rf"{_DET}{_ADJ}(?:{_ROLE}|staff(?:\s+members?)?|employees?|{_REAL_ONE})\b",
    # a person / human please (a whole clause that is only the ask)
    rf"(?:^|[,.;:!?]\s*)(?:a\s+|an\s+)?{_ADJ}(?:{_ROLE}|{_REAL_ONE}){_PLEASE}\s*(?:$|[,.;:!])",
    # "person not bot", "no bot, a human"
    r"(?:^|[,.;:!?]\s*)(?:a\s+)?(?:humans?|persons?|agents?|people)\s*,?\s+"
    r"not\s+(?:a\s+)?(?:bot|robot|machine)\b",
    r"\b(?:not|no)\s+(?:a\s+)?(?:bot|robot|machine)\s*[,.!]*\s+(?:please\s+|pls\s+)?"
    r"(?:a\s+|an\s+)?(?:humans?|persons?|agents?)\b",
]
_ASK = re.compile("|".join(f"(?:{p})" for p in _ASKS), re.IGNORECASE)

# A negation just before the ask: "I don't need a person", "no need to talk to anyone".
_NEGATION = re.compile(
    r"\b(?:don[’']?t|do\s+not|doesn[’']?t|never|no\s+need\s+to|not|nobody|won[’']?t|"
    r"didn[’']?t)"
    r"(?:\s+\w+){0,2}\s*$",
    re.IGNORECASE,
)

# Words a real request uses; a handoff guess without any of them is a mere mention.
_REQUEST_CUE = re.compile(
    r"\b(?:talk|speak|chat|connect|transfer|put|get|give|need|want|wanna|like|call|ring|"
    r"phone|contact|text|txt|reach|escalate|hand|help|assist|can|could|is\s+there|"
    r"are\s+there|pls|plz|please|now|asap|bot|human|callback|complaint|complain)\b|\?",
    re.IGNORECASE,
)

_ORDER_WORDS = (
    r"\b(?:orders?|package|parcel|pakage|delivery|delivered|deliver|shipping|shipped|"
    r"shipment|tracking|track|refund|return|item|purchase|arrived|never\s+came)\b"
)
_BOOKING_WORDS = (
    r"\b(?:booking|book|room|rooms|reservation|reserve|stay|check[\s-]?in|check[\s-]?out|"
    r"nights?)\b"
)
_TASKS = [
    ("track_order", re.compile(_ORDER_WORDS, re.IGNORECASE)),
    ("book_room", re.compile(_BOOKING_WORDS, re.IGNORECASE)),
]


def asks_for_person(text: str) -> bool:
    """True when the text explicitly asks for a person (a human, an agent, a manager ...)."""
    for match in _ASK.finditer(text):
        if not _NEGATION.search(text[: match.start()][-40:]):
            return True
    return False


def has_request_cue(text: str) -> bool:
    """True when the text reads like a request at all (a verb of asking, please, a '?')."""
    return bool(_REQUEST_CUE.search(text)) or len(text.split()) <= 3


def task_in_text(text: str) -> Optional[str]:
    """The task intent a text names besides its ask ("my order never arrived": track_order)."""
    found = [(m.start(), intent) for intent, pattern in _TASKS if (m := pattern.search(text))]
    return min(found)[1] if found else None
