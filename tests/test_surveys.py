"""Surveys on real SQLite and PostgreSQL: CSAT asked once per resolved handoff, answers
taken while open (and only ratings), a low rating reopening the chat, the review link,
NPS campaigns choosing only the filter's customers, figures and a formula-safe CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Optional

import pytest
from sqlalchemy import select, update

from bot.desk.survey_figures import answers_csv, survey_figures
from bot.desk.surveys import CSAT_QUESTION, CampaignFilter, ask_csat, campaigns, start_campaign
from bot.settings import Settings
from bot.sms import outbox
from bot.sms.surveys import REVIEW, SORRY, SORRY_REOPENED, THANKS, WHY, answer_survey
from bot.store import ownership
from bot.store.customers import set_opted_out
from bot.store.db import connection_scope, session_scope
from bot.store.models import HandoffRequest, Note, OutboundText, Survey, utcnow
from bot.store.seed import ALEX, JORDAN, PRIYA, SAM
from tests.desk.helpers import customer_texts
from tests.test_desk_core import make_agent

OPEN = Settings(quiet_hours="off")  # questions go out at once


def resolved_chat(
    phone: str, team: str = "orders", settings: Settings = OPEN
) -> ownership.Ownership:
    """A handoff to `team`, claimed by an agent and resolved; the CSAT question asked."""
    agent = make_agent(f"agent{phone[-4:]}", teams=(team,))
    with session_scope() as session:
        queued = ownership.hand_to_queue(session, phone, "asked", team)
        assert ownership.claim(session, queued.conversation_id, agent.id)
        before = ownership.ownership_by_id(session, queued.conversation_id)
        assert ownership.resolve(session, queued.conversation_id, agent.id)
        ask_csat(session, settings, before)
    return before


def answer(phone: str, message_id: int, text: str, settings: Settings = OPEN):  # noqa: ANN201
    with connection_scope(durable=False) as connection:  # as the SMS worker's turn
        latest = outbox.latest_for_phone(connection, phone)
        last_sent = latest.text if latest else None
        got = answer_survey(connection, phone, message_id, text, settings, last_sent)
        if got is not None:  # the thanks (or "why?") goes out, as the worker queues it
            outbox.enqueue(connection, phone, got.reply, opted_out=False)
        return got


def survey_of(phone: str) -> Survey:
    with session_scope() as session:
        found = session.execute(
            select(Survey).where(Survey.phone == phone).order_by(Survey.id.desc())
        ).scalar()
        session.expunge(found)
        return found


def test_csat_is_asked_once_per_handoff(database_url: str) -> None:
    before = resolved_chat(ALEX)
    with session_scope() as session:
        again = ask_csat(session, OPEN, before)  # a retried resolve: the same text
        texts = session.execute(select(OutboundText).where(OutboundText.phone == ALEX)).scalars()
        texts = [(t.kind, t.body, t.status, t.idempotency_key) for t in texts]
        surveys = session.execute(select(Survey.handoff_id, Survey.agent_id, Survey.team)).all()
    assert again is not None and again.status == "queued"
    assert texts == [("csat", CSAT_QUESTION, "queued", f"handoff-{before.handoff_id}")]
    assert [tuple(s) for s in surveys] == [(before.handoff_id, before.agent_id, "orders")]
    with session_scope() as session:
        assert (
            ask_csat(session, Settings(quiet_hours="off", csat_after_resolve=False), before) is None
        )


def test_a_rating_answers_and_other_texts_stay_turns(database_url: str) -> None:
    resolved_chat(ALEX)
    assert answer(ALEX, 1, "2 beds in my room please") is None  # a request: survey open
    assert answer(ALEX, 2, "1 more thing") is None
    got = answer(ALEX, 3, "4 thanks, quick and friendly")
    assert got.reply == THANKS and got.bot_text is None and not got.reopened
    survey = survey_of(ALEX)
    assert (survey.score, survey.comment, survey.answer_message_id) == (
        4,
        "thanks, quick and friendly",
        3,
    )
    assert answer(ALEX, 4, "5") is None  # answered: closed
    replay = answer(ALEX, 3, "4 thanks, quick and friendly")  # the same text, replayed
    assert replay.reply == THANKS and survey_of(ALEX).score == 4


def test_a_request_inside_the_comment_goes_to_the_assistant(database_url: str) -> None:
    resolved_chat(PRIYA)
    got = answer(PRIYA, 7, "5 thanks, also where is my order A1001")
    assert got.reply == THANKS and got.bot_text == "where is my order A1001"
    assert survey_of(PRIYA).comment == "thanks, also where is my order A1001"


def test_most_texts_cost_no_survey_lookup() -> None:
    from bot.sms.surveys import might_answer

    assert might_answer("4 thanks", None) and might_answer("👍", None)
    assert might_answer("friendly staff", WHY)  # the reason NPS asked for
    assert not might_answer("is there parking", None)
    assert not might_answer("2 beds in my room", "How did we do? Reply 1-5 (5 = great).")


def test_the_window_closes(database_url: str) -> None:
    resolved_chat(SAM)
    with session_scope() as session:
        session.execute(update(OutboundText).values(queued_at=utcnow() - dt.timedelta(hours=25)))
    assert answer(SAM, 1, "5") is None
    assert answer(SAM, 1, "5", Settings(quiet_hours="off", survey_reply_hours=48)).reply == THANKS


def test_a_question_still_scheduled_is_not_open(database_url: str) -> None:
    resolved_chat(SAM, settings=Settings(quiet_hours="00:00-23:59", business_tz="UTC"))
    with session_scope() as session:
        assert session.execute(select(OutboundText.status)).scalar() == "scheduled"
    assert answer(SAM, 1, "5") is None


def test_a_low_rating_reopens_the_chat_to_its_team(database_url: str) -> None:
    before = resolved_chat(SAM, team="bookings")
    got = answer(SAM, 11, "1 nobody fixed my booking")
    assert got.reply == SORRY_REOPENED and got.reopened
    with session_scope() as session:
        now = ownership.ownership_of(session, SAM)
        handoff = session.get(HandoffRequest, now.handoff_id)
        notes = session.execute(
            select(Note.text).where(Note.conversation_id == now.conversation_id)
        ).scalars()
        notes = list(notes)
    assert (now.owner, now.team) == ("queue", "bookings")
    assert now.handoff_id != before.handoff_id
    assert (handoff.reason, handoff.detail) == ("low_csat", "Low CSAT (1): nobody fixed my booking")
    assert notes == ["Low CSAT (1): nobody fixed my booking"]
    assert survey_of(SAM).reopened


def test_reopening_can_be_off(database_url: str) -> None:
    resolved_chat(SAM)
    got = answer(SAM, 12, "2", Settings(quiet_hours="off", csat_reopen_at_or_below=0))
    assert got.reply == SORRY and not got.reopened
    with session_scope() as session:
        assert ownership.ownership_of(session, SAM).owner == "bot"


@pytest.mark.parametrize("text, reply", [("5!", "review"), ("4", THANKS)])
def test_a_high_rating_asks_for_a_review(database_url: str, text: str, reply: str) -> None:
    settings = Settings(quiet_hours="off", review_link_url="https://example.com/review")
    resolved_chat(ALEX)
    expected = REVIEW.format(url="https://example.com/review") if reply == "review" else reply
    assert answer(ALEX, 5, text, settings).reply == expected


def test_an_nps_campaign_asks_only_the_filters_customers(database_url: str) -> None:
    for phone in (ALEX, SAM, JORDAN, PRIYA):
        customer_texts(database_url, phone, "hi")
    with session_scope() as session:
        for phone, team in ((ALEX, "orders"), (JORDAN, "orders"), (PRIYA, "bookings")):
            queued = ownership.hand_to_queue(session, phone, "asked", team)
            ownership.return_to_bot(session, queued.conversation_id)
        set_opted_out(session, JORDAN, True)
    with session_scope() as session:
        campaign_id = start_campaign(
            session, OPEN, "December", CampaignFilter(days=1, team="orders"), None
        )
        texts = session.execute(
            select(OutboundText.phone, OutboundText.status, OutboundText.suppress_reason)
            .where(OutboundText.kind == "nps")
            .order_by(OutboundText.phone)
        ).all()
    assert [tuple(t) for t in texts] == [
        (ALEX, "queued", None),
        (JORDAN, "suppressed", "opted_out"),
    ]
    assert answer(ALEX, 21, "9").reply == WHY
    assert answer(ALEX, 22, "friendly staff").reply == THANKS
    survey = survey_of(ALEX)
    assert (survey.kind, survey.score, survey.comment, survey.campaign_id) == (
        "nps",
        9,
        "friendly staff",
        campaign_id,
    )
    assert answer(ALEX, 23, "where is my order") is None  # done: a normal turn
    with session_scope() as session:
        (progress,) = campaigns(session)
    assert (progress.matched, progress.suppressed, progress.answered) == (2, 1, 1)
    assert progress.suppressed_phones == [{"phone": JORDAN, "reason": "opted_out"}]


def test_a_campaign_filter_by_csat_range(database_url: str) -> None:
    for phone in (ALEX, SAM):
        customer_texts(database_url, phone, "hi")
        resolved_chat(phone)
    answer(ALEX, 31, "5")
    answer(SAM, 32, "3")
    with session_scope() as session:
        campaign_id = start_campaign(
            session, OPEN, "", CampaignFilter(days=1, csat_min=4, csat_max=5), None
        )
        phones = session.execute(
            select(Survey.phone).where(Survey.campaign_id == campaign_id)
        ).scalars()
        assert list(phones) == [ALEX]
    with pytest.raises(ValueError):
        CampaignFilter(days=0).check()
    with pytest.raises(ValueError):
        CampaignFilter(days=5, csat_min=5, csat_max=2).check()


def score_row(text: str, phone: str, message_id: int) -> Optional[str]:
    got = answer(phone, message_id, text)
    return got.reply if got else None


def test_figures_and_a_formula_safe_csv(database_url: str) -> None:
    resolved_chat(ALEX, team="orders")
    resolved_chat(SAM, team="bookings")
    resolved_chat(PRIYA, team="orders")
    assert score_row('5: =HYPERLINK("http://evil")', ALEX, 41) == THANKS
    assert score_row("3, ok", SAM, 42) == THANKS
    assert score_row("4, @SUM(A1) +1 -1", PRIYA, 43) == THANKS
    today = dt.datetime.now(dt.timezone.utc).date()
    with session_scope() as session:
        figures = survey_figures(
            session, today - dt.timedelta(days=1), today + dt.timedelta(days=1), "UTC"
        )
        body = answers_csv(session, today, today, "UTC")
    assert (figures.csat.count, figures.csat.satisfied, figures.csat.average) == (3, 2, 4.0)
    teams = {t.key: (t.count, t.satisfied_share, t.average) for t in figures.teams}
    assert teams == {"bookings": (1, 0.0, 3.0), "orders": (2, 1.0, 4.5)}
    assert len(figures.agents) == 3 and figures.nps.count == 0 and figures.nps.score is None
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:4] == ["answered_at_utc", "kind", "score", "comment"]
    comments = {row[4]: row[3] for row in rows[1:]}
    assert comments["'" + ALEX] == '\'=HYPERLINK("http://evil")'
    assert comments["'" + PRIYA] == "'@SUM(A1) +1 -1"
    assert comments["'" + SAM] == "ok"


def test_every_survey_text_is_one_gsm_segment() -> None:
    from bot.desk.surveys import NPS_QUESTION
    from bot.sms.segments import sms_info
    from bot.sms.surveys import SORRY, SORRY_REOPENED, THANKS, WHY

    review = REVIEW.format(url="https://g.page/r/harborview-hotel-store/review")
    for text in (CSAT_QUESTION, NPS_QUESTION, THANKS, SORRY, SORRY_REOPENED, WHY, review):
        info = sms_info(text)
        assert (info.segments, info.encoding) == (1, "GSM-7"), text


def test_nps_figures_count_promoters_and_detractors_in_the_range(database_url: str) -> None:
    """Scores 10, 9, 8, 6, 3: promoters 2 (9-10), passives 1, detractors 2 (0-6), NPS 0;
    only answers given inside the chosen days (in the chosen zone) count."""
    fifth = "+15005550105"
    scored = {ALEX: "10 love it", SAM: "9 great", PRIYA: "8 fine", JORDAN: "6 meh", fifth: "3 slow"}
    for phone in scored:
        customer_texts(database_url, phone, "hi")
    with session_scope() as session:
        campaign_id = start_campaign(session, OPEN, "Mixed", CampaignFilter(days=1), None)
    for message_id, (phone, text) in enumerate(scored.items(), start=51):
        assert answer(phone, message_id, text).reply == THANKS
    today = dt.datetime.now(dt.timezone.utc).date()

    def nps(start: dt.date, end: dt.date, tz: str = "UTC") -> tuple:
        with session_scope() as session:
            got = survey_figures(session, start, end, tz).nps
        return (got.count, got.promoters, got.passives, got.detractors, got.score)

    assert nps(today, today) == (5, 2, 1, 2, 0.0)
    # Alex's 10 was given yesterday at 02:00 UTC: the evening before in New York
    yesterday = today - dt.timedelta(days=1)
    early = dt.datetime.combine(yesterday, dt.time(2, 0))
    with session_scope() as session:
        session.execute(
            update(Survey)
            .where(Survey.phone == ALEX, Survey.campaign_id == campaign_id)
            .values(answered_at=early)
        )
    assert nps(today, today) == (4, 1, 1, 2, -25.0)
    assert nps(yesterday, yesterday) == (1, 1, 0, 0, 100.0)
    assert nps(yesterday, today) == (5, 2, 1, 2, 0.0)
    day_before = yesterday - dt.timedelta(days=1)
    assert nps(day_before, day_before) == (0, 0, 0, 0, None)
    assert nps(day_before, day_before, "America/New_York") == (1, 1, 0, 0, 100.0)
    # CSAT figures are not NPS: none were given
    with session_scope() as session:
        assert survey_figures(session, yesterday, today, "UTC").csat.count == 0
