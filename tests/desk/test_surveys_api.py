"""The survey API over HTTP: supervisors only, CSRF on starting a campaign, checked
filters and dates, the CSV's type and header."""

from __future__ import annotations

from typing import Callable

from tests.desk.client import DeskClient
from tests.desk.conftest import People


def test_survey_routes_are_for_supervisors(
    signed_in: Callable[[str], DeskClient], people: People
) -> None:
    alice, sue = signed_in("alice"), signed_in("sue")
    for path in ("/api/supervisor/surveys", "/api/supervisor/surveys.csv"):
        assert alice.get(path).status == 403
    assert alice.post("/api/supervisor/nps-campaigns", {"days": 7}).status == 403
    overview = sue.get("/api/supervisor/surveys?from=2026-01-01&to=2026-01-31")
    assert overview.status == 200
    figures = overview.json()["figures"]
    assert figures["start"] == "2026-01-01" and figures["csat"]["count"] == 0
    assert figures["nps"]["score"] is None and "general" in overview.json()["teams"]


def test_campaigns_need_csrf_and_a_sound_filter(
    signed_in: Callable[[str], DeskClient], people: People
) -> None:
    sue = signed_in("sue")
    path = "/api/supervisor/nps-campaigns"
    assert sue.post(path, {"days": 7}, csrf=None).status == 403
    assert sue.post(path, {"days": 7}, csrf="forged").status == 403
    for bad in (
        {"days": 0},
        {"days": "7"},
        {"days": 7, "csat_min": 5, "csat_max": 2},
        {"days": 7, "csat_min": 9},
    ):
        answer = sue.post(path, bad)
        assert answer.status == 400, (bad, answer.text)
    started = sue.post(path, {"days": 7, "name": "Nobody", "team": "no-such-team"})
    assert started.status == 200
    campaign = started.json()["campaign"]
    assert (campaign["name"], campaign["matched"], campaign["sent"]) == ("Nobody", 0, 0)


def test_the_csv_export(signed_in: Callable[[str], DeskClient], people: People) -> None:
    sue = signed_in("sue")
    export = sue.get("/api/supervisor/surveys.csv?from=2026-01-01&to=2026-01-02")
    assert export.status == 200 and export.content_type == "text/csv; charset=utf-8"
    assert "attachment" in export.headers["Content-Disposition"]
    assert export.text.splitlines() == [
        "answered_at_utc,kind,score,comment,phone,customer,agent,team,campaign_id"
    ]
    assert sue.get("/api/supervisor/surveys.csv?from=yesterday").status == 400
    assert sue.get("/api/supervisor/surveys?from=2026-02-01&to=2026-01-01").status == 400
    assert sue.get("/api/supervisor/surveys?from=2020-01-01&to=2026-01-01").status == 400
