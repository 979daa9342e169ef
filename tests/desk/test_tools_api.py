"""Everyday desk tools over real HTTP on SQLite and PostgreSQL: searching past
conversations (wildcards taken literally), canned replies edited by supervisors and filled
for a chat, and per-agent figures over a range of local dates."""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse
from typing import Callable, List

import pytest
from sqlalchemy import select

from bot.desk.agent_figures import agent_figures
from bot.desk.canned import fill
from bot.desk.date_range import utc_bounds
from bot.store.db import session_scope
from bot.store.models import CannedReply, Conversation, HandoffRequest, Message
from bot.store.seed import ALEX, PRIYA, SAM
from tests.desk.client import DeskClient
from tests.desk.conftest import People
from tests.desk.helpers import agent_text_at, conversation_id_for, customer_texts, queue_chat
from tests.desk.server import DeskServer

BOTH_DATABASES = pytest.mark.parametrize(
    "database_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


def search(client: DeskClient, query: str, **extra: object) -> dict:
    params = urllib.parse.urlencode({"q": query, **extra})
    response = client.get(f"/api/search?{params}")
    assert response.status == 200, response.text
    return response.json()


def phones(page: dict) -> List[str]:
    return [item["phone"] for item in page["items"]]


# ------------------------------------------------------------------------------- search


@BOTH_DATABASES
def test_search_by_phone_name_order_and_text(
    desk: DeskServer, people: People, signed_in: Callable[[str], DeskClient]
) -> None:
    url = desk.database_url
    customer_texts(url, ALEX, "my robe is the wrong size")
    customer_texts(url, SAM, "the candle arrived broken")
    customer_texts(url, PRIYA, "is the pool open?")
    customer_texts(url, "+15557770001", "ROBE question from someone new")
    alice = signed_in("alice")
    by_order = search(alice, "a1001")  # Alex's order, any case
    assert phones(by_order) == [ALEX]
    hit = by_order["items"][0]
    assert hit["customer_name"] == "Alex Rivera" and hit["matched"] == ["order"]
    assert hit["snippet"] == "my robe is the wrong size" and hit["last_at"].endswith("Z")
    assert hit["status"] == "bot" and hit["conversation_id"] == conversation_id_for(url, ALEX)
    assert phones(search(alice, "(500) 555-0002")) == [SAM]  # the phone as people write it
    assert phones(search(alice, "patel")) == [PRIYA]
    assert search(alice, "patel")["items"][0]["matched"] == ["name"]
    # text: both conversations, the newest last message first
    by_text = search(alice, "robe")
    assert phones(by_text) == ["+15557770001", ALEX]
    assert by_text["items"][0]["customer_name"] is None
    customer_texts(url, ALEX, "any news?")
    by_text = search(alice, "robe")
    assert phones(by_text) == [ALEX, "+15557770001"]
    # the snippet is the matching text, not the newest one
    assert by_text["items"][0]["snippet"] == "my robe is the wrong size"
    assert search(alice, "nothing like this")["items"] == []


@BOTH_DATABASES
def test_search_pages_and_limits(
    desk: DeskServer, people: People, signed_in: Callable[[str], DeskClient]
) -> None:
    url = desk.database_url
    for i in range(5):
        customer_texts(url, f"+1555777100{i}", f"lost parcel number {i}")
    alice = signed_in("alice")
    first = search(alice, "lost parcel", limit=2)
    assert phones(first) == ["+15557771004", "+15557771003"] and first["next_offset"] == 2
    second = search(alice, "lost parcel", limit=2, offset=2)
    assert phones(second) == ["+15557771002", "+15557771001"] and second["next_offset"] == 4
    last = search(alice, "lost parcel", limit=2, offset=4)
    assert phones(last) == ["+15557771000"] and last["next_offset"] is None
    assert len(search(alice, "lost parcel", limit=500)["items"]) == 5  # capped, not refused
    for bad in ("q=a", "q=" + "x" * 101, "q=lost&limit=-1", "q=lost&offset=x", "q="):
        response = alice.get("/api/search?" + bad)
        assert response.status == 400, bad
        assert response.json()["error"]


@BOTH_DATABASES
def test_search_wildcards_and_quotes_are_literal(
    desk: DeskServer, people: People, signed_in: Callable[[str], DeskClient]
) -> None:
    url = desk.database_url
    customer_texts(url, "+15557772001", "I want 100% refund")
    customer_texts(url, "+15557772002", "I want 1000 refund")
    customer_texts(url, "+15557772003", "cotton_blend robe")
    customer_texts(url, "+15557772004", "cottonXblend robe")
    customer_texts(url, "+15557772005", 'it\'s "fine" \\ really')
    alice = signed_in("alice")
    assert phones(search(alice, "100%")) == ["+15557772001"]
    assert phones(search(alice, "%%")) == []
    assert phones(search(alice, "0%")) == ["+15557772001"]
    assert phones(search(alice, "n_b")) == ["+15557772003"]
    assert phones(search(alice, "__")) == []
    assert phones(search(alice, 'it\'s "fine"')) == ["+15557772005"]
    assert phones(search(alice, "\\ re")) == ["+15557772005"]
    assert phones(search(alice, "' OR 1=1 --")) == []


@BOTH_DATABASES
def test_search_and_transcripts_need_a_session(
    desk: DeskServer, people: People, signed_in: Callable[[str], DeskClient]
) -> None:
    customer_texts(desk.database_url, ALEX, "hello")
    cid = conversation_id_for(desk.database_url, ALEX)
    anonymous = DeskClient(desk.url)
    assert anonymous.get("/api/search?q=hello").status == 401
    assert anonymous.get(f"/api/transcripts/{cid}").status == 401


@BOTH_DATABASES
def test_any_agent_reads_a_past_transcript(
    desk: DeskServer, people: People, signed_in: Callable[[str], DeskClient]
) -> None:
    url = desk.database_url
    chat = queue_chat(url, ALEX, "order A1001 is <b>late</b>", "order_issue", "orders")
    alice = signed_in("alice")
    base = f"/api/conversations/{chat.conversation_id}"
    assert alice.post(base + "/claim").status == 200
    assert alice.post(base + "/reply", {"text": "Sorry Alex, checking now."}).status == 200
    resolved = alice.post(base + "/resolve")
    assert resolved.status == 200
    bob = signed_in("bob")  # never handled it: the live view stays closed to him
    assert bob.get(base).status == 403
    hit = search(bob, "A1001")["items"][0]
    assert hit["conversation_id"] == chat.conversation_id
    response = bob.get(f"/api/transcripts/{chat.conversation_id}")
    assert response.status == 200
    body = response.json()
    assert body["customer_name"] == "Alex Rivera"
    texts = [e["text"] for e in body["conversation"]["entries"] if e["kind"] == "message"]
    assert texts[:2] == ["order A1001 is <b>late</b>", "Sorry Alex, checking now."]
    # then the CSAT question the resolve asked, unless quiet hours deferred it
    asked = resolved.json()["survey"] == "queued"
    assert [t.startswith("How did we do?") for t in texts[2:]] == ([True] if asked else [])
    assert "permissions" not in body
    assert bob.get("/api/transcripts/999999").status == 404


# ------------------------------------------------------------------------ canned replies


def test_fill_placeholders() -> None:
    text = "Hi {first_name}, this is {agent} from Harborview."
    assert fill(text, "Alex", "Alice Moreno") == "Hi Alex, this is Alice from Harborview."
    assert fill(text, None, "Alice Moreno") == "Hi, this is Alice from Harborview."
    assert fill("{first_name}, thanks for waiting!", "", "Bo") == "Thanks for waiting!"
    assert fill("Thanks {first_name}!", "  ", "Bo") == "Thanks!"


@BOTH_DATABASES
def test_supervisor_edits_canned_replies(
    desk: DeskServer, people: People, signed_in: Callable[[str], DeskClient]
) -> None:
    sue, olga = signed_in("sue"), signed_in("olga")
    listing = sue.get("/api/supervisor/canned").json()
    assert "Greeting" in [c["title"] for c in listing["items"]]  # seeded on first use
    assert {"general", "orders", "bookings"} <= set(listing["teams"])
    new = {"title": "Order shipped", "text": "Hi {first_name}, it ships today.", "team": "orders"}
    assert sue.post("/api/supervisor/canned", new, csrf=None).status == 403
    assert sue.post("/api/supervisor/canned", new, csrf="forged").status == 403
    created = sue.post("/api/supervisor/canned", new)
    assert created.status == 200, created.text
    item = created.json()["item"]
    assert {k: item[k] for k in new} == new
    # agents may not edit, nor list the editor's view
    assert olga.post("/api/supervisor/canned", new).status == 403
    assert olga.get("/api/supervisor/canned").status == 403
    path = f"/api/supervisor/canned/{item['id']}"
    assert olga.request("PUT", path, b"{}", {"X-CSRF-Token": olga.csrf}).status == 403
    assert olga.post(path + "/delete").status == 403
    # bad input is refused with a reason
    for bad, why in (
        ({**new, "title": " "}, "title"),
        ({**new, "text": ""}, "text"),
        ({**new, "text": "Hi {firstname}"}, "{firstname}"),
        ({**new, "team": "kitchen"}, "kitchen"),
        ({**new, "team": 3}, "team"),
        ({**new, "text": "x" * 641}, "640"),
    ):
        response = sue.post("/api/supervisor/canned", bad)
        assert response.status == 400 and why in response.json()["error"], bad
    # edit (CSRF checked on PUT too), then delete
    changed = {"title": "Order shipped", "text": "{first_name}, it shipped today.", "team": None}
    put = sue.request(
        "PUT",
        path,
        json.dumps(changed).encode(),
        {"Content-Type": "application/json"},
    )
    assert put.status == 403
    put = sue.request(
        "PUT",
        path,
        json.dumps(changed).encode(),
        {"Content-Type": "application/json", "X-CSRF-Token": sue.csrf},
    )
    assert put.status == 200 and put.json()["item"]["team"] is None
    assert "{first_name}, it shipped today." in [
        c["text"] for c in olga.get("/api/canned").json()["items"]
    ]
    assert sue.post(path + "/delete").json() == {"ok": True}
    assert sue.post(path + "/delete").status == 404
    assert sue.request("PUT", path, b"{}", {"X-CSRF-Token": sue.csrf}).status == 404
    assert item["id"] not in [c["id"] for c in olga.get("/api/canned").json()["items"]]
    # deleting every reply does not bring the defaults back
    for c in sue.get("/api/supervisor/canned").json()["items"]:
        assert sue.post(f"/api/supervisor/canned/{c['id']}/delete").status == 200
    assert sue.get("/api/supervisor/canned").json()["items"] == []
    assert olga.get("/api/canned").json()["items"] == []
    with session_scope(desk.database_url) as session:
        rows = session.execute(select(CannedReply)).scalars().all()
        assert rows and all(r.deleted_at is not None for r in rows)
        assert {r.updated_by for r in rows} == {people.sue.id}


@BOTH_DATABASES
def test_canned_replies_by_team_filled_for_the_chat(
    desk: DeskServer, people: People, signed_in: Callable[[str], DeskClient]
) -> None:
    sue, olga, alice = signed_in("sue"), signed_in("olga"), signed_in("alice")
    made = {}
    for title, team in (("Orders one", "orders"), ("Bookings one", "bookings"), ("All", None)):
        body = {"title": title, "text": "Hi {first_name}, {agent} here.", "team": team}
        made[title] = sue.post("/api/supervisor/canned", body).json()["item"]["id"]
    olga_sees = {c["title"] for c in olga.get("/api/canned").json()["items"]}
    assert {"Orders one", "All"} <= olga_sees and "Bookings one" not in olga_sees
    alice_sees = {c["title"] for c in alice.get("/api/canned").json()["items"]}
    assert {"Orders one", "Bookings one", "All"} <= alice_sees
    chat = queue_chat(desk.database_url, ALEX, "where is A1001", "order_issue", "orders")
    base = f"/api/conversations/{chat.conversation_id}"
    assert olga.post(base + "/claim").status == 200
    filled = olga.get(f"{base}/canned/{made['Orders one']}")
    assert filled.json() == {"id": made["Orders one"], "text": "Hi Alex, Olga here."}
    assert olga.get(f"{base}/canned/{made['Bookings one']}").status == 404  # not her team's
    assert olga.get(f"{base}/canned/999999").status == 404
    # a customer without a name on file: the placeholder is dropped
    stranger = queue_chat(desk.database_url, "+15557773001", "hello", "asked", "orders")
    other = f"/api/conversations/{stranger.conversation_id}"
    assert olga.get(f"{other}/canned/{made['All']}").json()["text"] == "Hi, Olga here."
    # someone who may not see the chat cannot fill for it
    general = queue_chat(desk.database_url, "+15557773002", "hello", "asked", "general")
    assert (
        olga.get(f"/api/conversations/{general.conversation_id}/canned/{made['All']}").status == 403
    )


# ------------------------------------------------------------------------------ figures

TZ = "America/New_York"
DAY = dt.date(2030, 6, 15)
NOON = dt.datetime(2030, 6, 15, 16, 0)  # UTC; 12:00 in New York
MIN = dt.timedelta(minutes=1)


def _stretch(
    session,  # noqa: ANN001
    phone: str,
    agent_id: int,
    queued: dt.datetime,
    first_sent_after: dt.timedelta,
    resolved_after: dt.timedelta,
    claimed_after: dt.timedelta = MIN,
) -> None:
    """A handoff queued at `queued`, claimed, answered by `agent_id` and resolved."""
    conversation = session.query(Conversation).filter_by(phone=phone).one_or_none()
    if conversation is None:
        conversation = Conversation(phone=phone, created_at=queued)
        session.add(conversation)
        session.flush()
    session.add(
        HandoffRequest(
            phone=phone,
            reason="asked",
            team="general",
            status="resolved",
            agent_id=agent_id,
            created_at=queued,
            claimed_at=queued + claimed_after,
            first_reply_at=queued + first_sent_after - MIN / 2,
            resolved_at=queued + resolved_after,
        )
    )
    sent_at = queued + first_sent_after
    session.flush()
    agent_text_at(session, phone, agent_id, sent_at - MIN / 2, sent_at, status="delivered")


def _figures_fixture(url: str, people: People) -> None:
    alice, bob = people.alice.id, people.bob.id
    with session_scope(url) as session:
        # alice, on the 15th (New York): first replies 2, 4, 9 min; handling 10, 20, 30 min
        _stretch(session, "+15557774001", alice, NOON - 240 * MIN, 2 * MIN, 11 * MIN)
        _stretch(session, "+15557774002", alice, NOON - 120 * MIN, 4 * MIN, 21 * MIN)
        _stretch(session, "+15557774003", alice, NOON, 9 * MIN, 31 * MIN)
        # bob: one on the 15th (5 min, 40 min) and one on the 16th (not in the 15th)
        _stretch(session, "+15557774004", bob, NOON + 60 * MIN, 5 * MIN, 41 * MIN)
        _stretch(session, "+15557774005", bob, NOON + 24 * 60 * MIN, 1 * MIN, 3 * MIN)
        # 23:30 on the 14th in New York (03:30 UTC on the 15th): the 14th
        _stretch(session, "+15557774006", bob, dt.datetime(2030, 6, 15, 3, 30), MIN, 20 * MIN)
        # an agent text that was never sent does not count as a first reply
        conversation = session.query(Conversation).filter_by(phone="+15557774006").one()
        session.add(
            Message(
                conversation_id=conversation.id,
                direction="out",
                author=f"agent:{alice}",
                text="queued only",
                status="out",
                created_at=dt.datetime(2030, 6, 15, 3, 30, 10),
            )
        )


@BOTH_DATABASES
def test_agent_figures_over_local_dates(database_url: str, people: People) -> None:
    _figures_fixture(database_url, people)
    assert utc_bounds(DAY, DAY, TZ) == (dt.datetime(2030, 6, 15, 4), dt.datetime(2030, 6, 16, 4))
    with session_scope(database_url) as session:
        report = agent_figures(session, DAY, DAY, TZ)
        rows = {r.username: r for r in report.agents}
        assert (rows["alice"].handled, rows["alice"].first_reply_count) == (3, 3)
        assert rows["alice"].first_reply_median_seconds == pytest.approx(4 * 60)
        assert rows["alice"].handling_median_seconds == pytest.approx(20 * 60)
        assert (rows["bob"].handled, rows["bob"].first_reply_median_seconds) == (1, 5 * 60)
        assert rows["bob"].handling_median_seconds == pytest.approx(40 * 60)
        assert rows["olga"].handled == 0 and rows["olga"].first_reply_median_seconds is None
        assert rows["sue"].csat is None
        assert [r.username for r in report.agents][:2] == ["alice", "bob"]
        # two days: bob's second day and the 14th's late chat in Paris's calendar
        two = {r.username: r for r in agent_figures(session, DAY, DAY + dt.timedelta(1), TZ).agents}
        assert two["bob"].handled == 2 and two["bob"].first_reply_count == 2
        paris = {r.username: r for r in agent_figures(session, DAY, DAY, "Europe/Paris").agents}
        assert paris["bob"].handled == 2  # 05:30 Paris on the 15th; 16:00 New York + 41 min
        assert paris["alice"].first_reply_count == 3  # her text that was never sent: not one


@BOTH_DATABASES
def test_agent_figures_over_http(
    desk: DeskServer, people: People, signed_in: Callable[[str], DeskClient]
) -> None:
    _figures_fixture(desk.database_url, people)
    sue = signed_in("sue")
    path = "/api/supervisor/agent-figures?from=2030-06-15&to=2030-06-15&tz=America/New_York"
    report = sue.get(path).json()["figures"]
    assert (report["date_from"], report["date_to"], report["tz"]) == (
        "2030-06-15",
        "2030-06-15",
        TZ,
    )
    assert report["start"] == "2030-06-15T04:00:00Z" and report["end"] == "2030-06-16T04:00:00Z"
    rows = {r["username"]: r for r in report["agents"]}
    assert rows["alice"]["handled"] == 3 and rows["alice"]["first_reply_median_seconds"] == 240
    assert rows["alice"]["handling_median_seconds"] == 1200 and rows["alice"]["csat"] is None
    today = sue.get("/api/supervisor/agent-figures").json()["figures"]
    assert today["date_from"] == today["date_to"] and today["tz"]
    assert signed_in("olga").get(path).status == 403
    assert DeskClient(desk.url).get(path).status == 401
    for bad in (
        "tz=Mars/Base",
        "from=2030-06-16&to=2030-06-15",
        "from=June",
        "from=2029-01-01&to=2030-06-15",
    ):
        response = sue.get("/api/supervisor/agent-figures?" + bad)
        assert response.status == 400 and response.json()["error"], bad
