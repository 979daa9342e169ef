"""The SMS-style rewrite of an evaluation text: lowercase, no punctuation, texting shorthand.

Used only to derive the SMS-style copy of an evaluation set (bench/nlu_eval.py
`--sms-style`); never to make training data, so the rewrite's habits are not learned.
"""

from __future__ import annotations

import re

# Whole-word shorthand, applied after lowercasing.
SHORTHAND = {
    "you": "u",
    "your": "ur",
    "you're": "ur",
    "youre": "ur",
    "are": "r",
    "please": "pls",
    "for": "4",
    "to": "2",
    "too": "2",
    "thanks": "thx",
    "thank you": "ty",
    "tonight": "2nite",
    "tomorrow": "tmrw",
    "today": "2day",
    "before": "b4",
    "because": "bc",
    "with": "w",
    "what": "wat",
    "okay": "ok",
    "people": "ppl",
    "message": "msg",
    "i don't know": "idk",
    "great": "gr8",
    "later": "l8r",
}
_PHRASES = sorted(SHORTHAND, key=len, reverse=True)
_SHORTHAND_RE = re.compile(r"\b(" + "|".join(re.escape(p) for p in _PHRASES) + r")\b")
# Punctuation goes (emoji stay), except inside times, dates and prices: 10:30, 12/5, $15.
_PUNCTUATION_RE = re.compile(
    r"[!\"#%&()*+,.;<=>?@\[\]\\^_`{|}~\u2018-\u201f\u2026]|(?<!\d)[:/-]|[:/-](?!\d)"
)
_SPACES_RE = re.compile(r"\s+")


def sms_style(text: str) -> str:
    """The text as a hurried texter would send it."""
    lowered = text.lower().replace("\u2019", "'")
    shortened = _SHORTHAND_RE.sub(lambda m: SHORTHAND[m.group(1)], lowered)
    bare = _PUNCTUATION_RE.sub(" ", shortened.replace("'", ""))
    return _SPACES_RE.sub(" ", bare).strip() or text
