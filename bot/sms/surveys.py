"""A text that answers a survey (bot/store/surveys.py), decided before the assistant.

While a CSAT or NPS question is open (SURVEY_REPLY_HOURS after it went out), a text that
STARTS with a rating (bot/text/ratings.py) is its answer: the score is recorded, the rest
of the text is the comment, and the customer is thanked. A comment that also asks for
something ("5 thanks, also where is my order A1001") goes on to the assistant. A low CSAT
rating may reopen the chat to its team; a high one may ask for a review. NPS asks "why?"
when the score came alone, and the next text is the reason. Any other text is a normal
turn and the survey stays open.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from bot.settings import Settings
from bot.store import surveys
from bot.text.ratings import CSAT, NPS, parse_rating, request_in

THANKS = "Thanks for your feedback!"
SORRY = "Thanks for telling us, and sorry we fell short. We'll use this to improve."
SORRY_REOPENED = "Thanks for telling us, and sorry we fell short. A teammate will text you back."
REVIEW = "Thanks! Would you review us? {url}"
WHY = "Thanks! What's the main reason for your score?"


@dataclass(frozen=True)
class SurveyAnswer:
    """What a survey made of a text: the thanks, and what the assistant still gets."""

    reply: str
    bot_text: Optional[str] = None  # a request inside the comment, for the assistant
    reopened: bool = False


def might_answer(text: str, last_sent: Optional[str]) -> bool:
    """Whether a text can answer a survey at all (pure: most texts cost no lookup): it
    starts with a rating or score, or our last text to the customer asked "why?"."""
    return (
        last_sent == WHY
        or parse_rating(text, NPS) is not None
        or parse_rating(text, CSAT) is not None
    )


def answer_survey(
    session: surveys.Executor,
    phone: str,
    message_id: int,
    text: str,
    settings: Settings,
    last_sent: Optional[str] = None,
) -> Optional[SurveyAnswer]:
    """The text's survey answer, recorded (None: not one; the text is a normal turn).
    `last_sent`: our latest text to the customer (the turn has read it already)."""
    if not might_answer(text, last_sent):
        return None
    survey = surveys.open_survey(session, phone, message_id, settings.survey_reply_hours)
    if survey is None:
        return None
    if survey.awaiting_why:
        surveys.record_why(session, survey.id, text[:1000], message_id)
        return SurveyAnswer(THANKS)
    rating = parse_rating(text, NPS if survey.kind == surveys.NPS else CSAT)
    if rating is None:
        return None
    comment = rating.comment[:1000]
    if survey.kind == surveys.NPS:
        ask_why = not comment
        surveys.record_score(session, survey.id, rating.score, comment, message_id, ask_why)
        return SurveyAnswer(WHY if ask_why else THANKS, request_in(comment))
    surveys.record_score(session, survey.id, rating.score, comment, message_id)
    if rating.score <= settings.csat_reopen_at_or_below:
        if survey.answered_by_this_text:  # a replay: the first run reopened it (or not)
            return SurveyAnswer(SORRY)
        reopened = surveys.reopen_after_low_rating(
            session, survey, rating.score, comment, settings.reason_teams.get("asked", "general")
        )
        return SurveyAnswer(SORRY_REOPENED if reopened else SORRY, reopened=reopened)
    if rating.score <= 2:
        return SurveyAnswer(SORRY, request_in(comment))
    wants_review = settings.review_link_url and rating.score >= settings.csat_review_at_or_above
    reply = REVIEW.format(url=settings.review_link_url) if wants_review else THANKS
    return SurveyAnswer(reply, request_in(comment))
