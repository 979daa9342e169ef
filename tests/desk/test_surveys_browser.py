"""Surveys end to end on the shared stack: texts through the Plivo stand-in and the real
receiver/worker path, agents and the supervisor in Chromium. CSAT after a resolved chat
reaches the supervisor page and the CSV; a low rating reopens the chat to its team; an NPS
campaign asks only the customers its filter chose (an opted-out one suppressed)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
import time
from typing import Any, Callable, Dict, Tuple
from zoneinfo import ZoneInfo

import pytest

from bot.desk.agents import create_agent
from bot.desk.surveys import CSAT_QUESTION, NPS_QUESTION
from bot.outbound.surveys import ASSISTANT_TEAM
from bot.sms.surveys import SORRY_REOPENED, THANKS, WHY
from bot.store.db import session_scope
from bot.store.models import HandoffRequest, OutboundText, OutboxMessage, Survey, utcnow
from bot.store.ownership import hand_to_queue, return_to_bot
from tests.desk.client import DeskClient
from tests.desk.conftest import PASSWORD, save_screenshot
from tests.desk.helpers import conversation_id_for, customer_texts, owner_of
from tests.desk.stack import Stack, fresh_phone, mine_item, queue_item, sign_in
from tests.desk.test_requests_browser import customer_with_a_request

pytestmark = pytest.mark.slow

TZ = "America/New_York"  # the stack's BUSINESS_TZ (the default): the date range's days
IN_TZ = {"timezone_id": TZ}


def today() -> str:
    return dt.datetime.now(ZoneInfo(TZ)).date().isoformat()


def wait_until(check: Callable[[], bool], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def overflow(page: Any) -> Dict[str, int]:
    return page.evaluate(
        "({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
    )


NPS_HINT = re.compile(r"^(\d+) promoters · (\d+) passives · (\d+) detractors \((\d+)\)$")


def nps_shown(page: Any) -> Tuple[int, int, int, int]:  # noqa: ANN401
    """(promoters, passives, detractors, answers) of the NPS figure on the page."""
    hint = page.inner_text("#kpi-nps .kpi-hint")
    found = NPS_HINT.match(hint)
    assert found, hint
    promoters, passives, detractors, count = (int(n) for n in found.groups())
    assert promoters + passives + detractors == count, hint
    return promoters, passives, detractors, count


def nps_value(promoters: int, detractors: int, count: int) -> str:
    """The NPS the page should show: % promoters minus % detractors, whole, signed."""
    score = math.floor((promoters - detractors) * 100 / count + 0.5)
    return f"+{score}" if score > 0 else str(score)


def shown_duration(seconds: float) -> str:
    """A duration as the desk writes it (common.js `duration`): 7s, 2m 05s, 1h 03m."""
    whole = max(0, math.floor(seconds + 0.5))
    if whole < 60:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 60:
        return f"{minutes}m {whole % 60:02d}s"
    return f"{minutes // 60}h {minutes % 60:02d}m"


def chat_times(stack: Stack, phone: str) -> Tuple[float, float]:
    """(first reply, handling time) in seconds of the phone's one handoff, from the
    database: queued -> the agent's first text accepted by Plivo; claimed -> resolved."""
    with session_scope(stack.url) as session:
        handoff = session.query(HandoffRequest).filter_by(phone=phone).one()
        sent_at = (
            session.query(OutboxMessage.sent_at)
            .filter_by(phone=phone, kind="agent")
            .order_by(OutboxMessage.id)
            .first()[0]
        )
        assert sent_at is not None and handoff.resolved_at is not None
        return (
            (sent_at - handoff.created_at).total_seconds(),
            (handoff.resolved_at - handoff.claimed_at).total_seconds(),
        )


def test_csat_after_a_resolved_chat_reaches_the_supervisor_page(
    stack: Stack,
    browser: Any,  # noqa: ANN401
) -> None:
    sms = stack.sms
    phone = fresh_phone()
    with session_scope(stack.url) as session:
        cara = create_agent(session, "cara", "Cara Diaz", PASSWORD, teams=("general",))
    agent = sign_in(browser, stack, "cara", **IN_TZ)
    try:
        asked = time.time()
        assert "passing you to a person" in sms.ask(phone, "AGENT")
        agent.wait_for_selector(queue_item(phone), timeout=15_000)
        agent.click(queue_item(phone))
        claiming = time.time()
        agent.click("#claim")
        agent.wait_for_selector(mine_item(phone))
        agent.fill("#text", "Hi, this is Cara. Your refund went out today.")
        agent.click("#send")
        # the stand-in receives her reply (the SMS worker sent it)
        assert sms.wait_replies(phone, 2)[-1] == "Hi, this is Cara. Your refund went out today."
        texted_back = time.time()
        agent.click("#resolve")
        agent.wait_for_selector("#conv-sub .owner-bot")
        resolved = time.time()
        # the stand-in receives the rating question, once
        assert sms.wait_replies(phone, 3)[-1] == CSAT_QUESTION
        assert sms.ask(phone, "4 thanks, quick and friendly") == THANKS
        assert agent.errors == []
    finally:
        agent.context.close()
    supervisor = sign_in(browser, stack, "sue", **IN_TZ)
    try:
        supervisor.goto(stack.desk.url + "/supervisor")
        row = supervisor.locator(f'#csat-agents tr[data-agent="{cara.id}"]')
        row.wait_for()
        assert row.locator("td").all_inner_texts() == ["Cara Diaz", "100%", "4.0", "1"]
        # the per-agent figures table (bot/desk/agent_figures.py): her whole row, the times
        # as the database has them (handoff queued -> her text sent; claim -> resolve)
        figures = supervisor.locator('#agent-figures tr[data-agent="cara"] td')
        figures.nth(4).wait_for()
        first_reply, handling = chat_times(stack, phone)
        assert 0 < first_reply <= texted_back - asked, (first_reply, texted_back - asked)
        assert 0 < handling <= resolved - claiming, (handling, resolved - claiming)
        assert figures.all_inner_texts() == [
            "Cara Diaz\ngeneral",
            "1",
            f"{shown_duration(first_reply)} (1)",
            f"{shown_duration(handling)} (1)",
            "4",
        ]
        team = supervisor.locator('#csat-teams tr[data-team="general"]')
        assert team.locator("td").nth(0).inner_text() == "general"
        assert int(team.locator("td").nth(3).inner_text()) >= 1
        assert supervisor.input_value("#survey-from") == today()
        href = supervisor.get_attribute("#survey-csv", "href")
        assert href == f"/api/supervisor/surveys.csv?from={today()}&to={today()}"
        save_screenshot(supervisor, "supervisor-csat.png")
        assert supervisor.errors == []
    finally:
        supervisor.context.close()
    export = DeskClient(stack.desk.url).login("sue").get(href)
    assert export.status == 200 and export.content_type.startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.text)))
    mine = [r for r in rows if r[4] == "'" + phone]  # '+1555...: no formula
    assert len(mine) == 1
    assert mine[0][1:4] == ["csat", "4", "thanks, quick and friendly"]
    assert mine[0][6:8] == ["Cara Diaz", "general"]


def test_a_low_rating_reopens_the_chat_to_its_team(stack: Stack) -> None:
    sms = stack.sms
    phone = fresh_phone()
    sms.ask(phone, "AGENT")
    cid = conversation_id_for(stack.url, phone)
    bob = DeskClient(stack.desk.url).login("bob")
    assert bob.post(f"/api/conversations/{cid}/claim").status == 200
    resolved = bob.post(f"/api/conversations/{cid}/resolve")
    assert resolved.status == 200 and resolved.json()["survey"] == "queued"
    assert sms.wait_replies(phone, 2)[-1] == CSAT_QUESTION
    assert sms.ask(phone, "1 nobody fixed my problem") == SORRY_REOPENED
    now = owner_of(stack.url, cid)
    assert (now.owner, now.team) == ("queue", "general")
    detail = bob.get(f"/api/conversations/{cid}").json()
    assert "Low CSAT (1): nobody fixed my problem" in str(detail["conversation"])
    (item,) = [i for i in bob.get("/api/queue").json()["items"] if i["conversation_id"] == cid]
    assert (item["reason"], item["detail"]) == ("low_csat", "Low CSAT (1): nobody fixed my problem")


@pytest.mark.parametrize(
    "viewport",
    [pytest.param({"width": 390, "height": 844}, id="390"), pytest.param(None, id="1280")],
)
def test_an_nps_campaign_asks_only_the_filters_customers(
    stack: Stack,
    browser: Any,  # noqa: ANN401
    viewport: Any,  # noqa: ANN401
) -> None:
    sms = stack.sms
    team = f"vip{time.time_ns() % 100_000}"
    asked, queued, opted_out, other = (fresh_phone() for _ in range(4))
    for phone in (asked, queued, opted_out, other):
        customer_texts(stack.url, phone, "hello")
    with session_scope(stack.url) as session:
        for phone in (asked, queued, opted_out):
            chat = hand_to_queue(session, phone, "asked", team)
            if phone != queued:
                return_to_bot(session, chat.conversation_id)
    sms.ask(opted_out, "STOP")
    page = sign_in(
        browser, stack, "sue", viewport=viewport or {"width": 1280, "height": 800}, **IN_TZ
    )
    try:
        page.goto(stack.desk.url + "/supervisor")
        page.wait_for_selector(f'#nps-team option[value="{team}"]', state="attached")
        # the NPS figure before (the stack is shared: other answers today may be in it)
        promoters, passives, detractors, count = nps_shown(page)
        page.fill("#nps-name", "<b>VIP</b> check")
        page.fill("#nps-days", "1")
        page.select_option("#nps-team", team)
        page.click("#nps-start")
        page.wait_for_selector('#nps-status:has-text("3 customers match")')
        for phone in (asked, queued):
            wait_until(
                lambda p=phone: NPS_QUESTION in [m["text"] for m in sms.sent(p)],
                f"{phone} got no NPS question",
            )
        assert sms.ask(asked, "9") == WHY
        assert sms.ask(asked, "friendly staff and fast") == THANKS
        assert all(NPS_QUESTION not in m["text"] for m in sms.sent(other))
        assert all(NPS_QUESTION not in m["text"] for m in sms.sent(opted_out))
        with session_scope(stack.url) as session:
            answer = session.query(Survey).filter_by(phone=asked, kind="nps").one()
            assert (answer.score, answer.comment) == (9, "friendly staff and fast")
        row = page.locator("#nps-campaigns tr").first
        assert row.locator("td strong").inner_text() == "<b>VIP</b> check"  # text, not HTML

        def progress() -> list:
            page.click("#survey-range button")
            page.wait_for_timeout(300)
            return row.locator("td").all_inner_texts()

        wait_until(lambda: progress()[1:3] == ["3", "2"] and progress()[4] == "1", "progress")
        cells = progress()
        assert cells[3].startswith("1") and f"{opted_out} (opted out)" in cells[3]
        # the overall NPS now counts the 9 as one more promoter
        after = (promoters + 1, passives, detractors, count + 1)
        assert nps_shown(page) == after
        value = page.inner_text("#kpi-nps .kpi-value")
        assert value == nps_value(after[0], after[2], after[3]), (value, after)
        page.locator("#surveys").scroll_into_view_if_needed()
        widths = overflow(page)
        assert widths["scroll"] <= widths["inner"], widths
        save_screenshot(page, f"supervisor-surveys-{page.viewport_size['width']}.png")
        assert page.errors == []
    finally:
        page.context.close()


def test_a_rating_with_a_request_gets_both_answers(stack: Stack) -> None:
    sms = stack.sms
    phone = fresh_phone()
    sms.ask(phone, "AGENT")
    cid = conversation_id_for(stack.url, phone)
    bob = DeskClient(stack.desk.url).login("bob")
    assert bob.post(f"/api/conversations/{cid}/claim").status == 200
    assert bob.post(f"/api/conversations/{cid}/resolve").status == 200
    assert sms.wait_replies(phone, 2)[-1] == CSAT_QUESTION
    assert "parking" in sms.ask(phone, "is there parking").lower()  # a normal turn
    before = len(sms.sent(phone))
    sms.text(phone, "5 thanks, also where is my order A1001")
    thanks, answer = sms.wait_replies(phone, before + 2)[before:]
    assert thanks == THANKS and "A1001" in answer  # the assistant answered the request
    with session_scope(stack.url) as session:
        rated = session.query(Survey).filter_by(phone=phone, kind="csat").one()
        assert (rated.score, rated.comment) == (5, "thanks, also where is my order A1001")


def test_a_room_request_the_bot_took_alone_is_rated_by_sms(stack: Stack) -> None:
    """CSAT_AFTER_BOT_TASKS (on in the shared stack): the customer texts a room request to
    the bot, gets the 1-5 question CSAT_AFTER_BOT_TASK_SECONDS later (brought forward
    here), and their "5 thanks" is recorded as the assistant's rating."""
    sms = stack.sms
    phone, ref, _start, _end = customer_with_a_request(stack, "Rory Banks", 30)
    with session_scope(stack.url) as session:
        question = session.query(OutboundText).filter_by(phone=phone, kind="csat").one()
        assert (question.status, question.body) == ("scheduled", CSAT_QUESTION)
        wait = (question.not_before - utcnow()).total_seconds()
        assert 3500 < wait <= 3600, wait  # CSAT_AFTER_BOT_TASK_SECONDS in the shared stack
        asked = session.query(Survey).filter_by(phone=phone, kind="csat").one()
        assert (asked.team, asked.agent_id, asked.score) == (ASSISTANT_TEAM, None, None)
        question_id = question.id
    before = len(sms.sent(phone))
    assert CSAT_QUESTION not in [m["text"] for m in sms.sent(phone)]  # not before its time
    with session_scope(stack.url) as session:  # the two minutes pass
        session.query(OutboundText).filter_by(id=question_id).update({"not_before": utcnow()})
    assert sms.wait_replies(phone, before + 1)[before:] == [CSAT_QUESTION]
    assert sms.ask(phone, "5 thanks") == THANKS
    with session_scope(stack.url) as session:
        rated = session.query(Survey).filter_by(phone=phone, kind="csat").one()
        assert (rated.score, rated.comment, rated.team) == (5, "thanks", ASSISTANT_TEAM)
        assert rated.answered_at is not None
    # the request itself is untouched, and the chat stayed with the bot
    assert ref in sms.ask(phone, "REQUESTS")
    time.sleep(1)
    assert [m["text"] for m in sms.sent(phone)].count(CSAT_QUESTION) == 1
