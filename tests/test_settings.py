"""Settings: every variable read and checked once; a bad value stops a process at start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest

from bot.launcher import child_env
from bot.settings import (
    DEFAULT_REASON_TEAMS,
    PROJECT_ROOT,
    VAR_DIR,
    Settings,
    SettingsError,
)

PLIVO_ENV = {
    "PLIVO_AUTH_ID": "MADEVSTANDIN00000000",
    "PLIVO_AUTH_TOKEN": "local-dev-token",
    "PLIVO_NUMBER": "+15005550100",
    "PLIVO_API_URL": "http://127.0.0.1:9",  # nothing is sent in these tests
}


def test_defaults_without_any_variable() -> None:
    settings = Settings.from_env({})
    assert settings == Settings()
    assert settings.database_url == f"sqlite:///{VAR_DIR / 'bot.db'}"
    assert settings.tracker_database_url == f"sqlite:///{VAR_DIR / 'bot-tracker.db'}"
    assert settings.reason_teams == dict(DEFAULT_REASON_TEAMS)
    assert settings.desk_maintenance and settings.prometheus_multiproc_dir is None
    assert settings.pidfile_dir == VAR_DIR / "run"
    assert settings.desk_presence_grace_seconds == 120.0


def test_every_variable_is_read() -> None:
    env = {
        "DATABASE_URL": "postgresql://db/bot",
        "SMS_POLL_SECONDS": "0.5",
        "SMS_PROCESSING_CONCURRENCY": "3",
        "HANDOFF_TEAMS": "asked=orders, fallback=vip",
        "DESK_MAINTENANCE": "0",
        "DESK_PRESENCE_GRACE_SECONDS": "30",
        "DESK_UNANSWERED_SECONDS": "90",
        "DESK_WAIT_OFFER_AFTER_AGENT_SECONDS": "120",
        "QUEUE_REASSURE_SECONDS": "60",
        "SESSION_MAX_EVENTS": "40",
        "PIDFILE_DIR": "/run/sms-bot",
        "PROMETHEUS_MULTIPROC_DIR": "/run/sms-bot/prometheus",
        "BUSINESS_DAYS": "",  # set but empty: never open
        "REDIS_HOST": "redis.example",
        "REDIS_PORT": "6380",
        "SMS_RECEIVER_BACKLOG": "4096",
        "SMS_RECEIVER_ACCESS_LOG": "1",
        "FAQ_ANSWERS_FILE": "var/answers.yml",
    }
    settings = Settings.from_env(env)
    assert settings.faq_answers_file == PROJECT_ROOT / "var" / "answers.yml"
    assert (settings.receiver_backlog, settings.receiver_access_log) == (4096, True)
    assert (settings.redis_host, settings.redis_port) == ("redis.example", 6380)
    assert settings.tracker_database_url == "postgresql://db/bot"  # same database
    assert (settings.sms_poll_seconds, settings.sms_processing_concurrency) == (0.5, 3)
    teams = settings.reason_teams
    assert (teams["asked"], teams["fallback"], teams["order_issue"]) == ("orders", "vip", "orders")
    assert not settings.desk_maintenance and settings.session_max_events == 40
    assert settings.desk_presence_grace_seconds == 30.0
    assert settings.desk_unanswered_seconds == 90.0
    assert settings.desk_wait_offer_after_agent_seconds == 120.0
    assert settings.queue_reassure_seconds == 60.0
    assert settings.pidfile_dir == Path("/run/sms-bot")
    assert settings.prometheus_multiproc_dir == "/run/sms-bot/prometheus"
    assert settings.business_days == ""
    explicit = Settings.from_env({**env, "TRACKER_DATABASE_URL": "postgresql://db/trackers"})
    assert explicit.tracker_database_url == "postgresql://db/trackers"


def test_notify_api_tokens_are_a_list_and_never_shown_in_errors() -> None:
    assert Settings.from_env({}).notify_api_tokens == ()
    tokens = "a" * 16 + ", " + "b" * 40
    assert Settings.from_env({"NOTIFY_API_TOKENS": tokens}).notify_api_tokens == (
        "a" * 16,
        "b" * 40,
    )
    for bad in ("short-secret-1", "a" * 16 + ",,", "with space inside token"):
        with pytest.raises(SettingsError) as raised:
            Settings.from_env({"NOTIFY_API_TOKENS": bad})
        assert "NOTIFY_API_TOKENS" in str(raised.value)
        assert bad not in str(raised.value) and "short" not in str(raised.value)


def test_survey_settings() -> None:
    default = Settings.from_env({})
    assert default.csat_after_resolve and default.csat_reopen_at_or_below == 2
    assert (default.csat_review_at_or_above, default.review_link_url) == (5, "")
    assert default.survey_reply_hours == 24.0 and not default.csat_after_bot_tasks
    assert Settings.from_env({"CSAT_AFTER_BOT_TASKS": "1"}).csat_after_bot_tasks
    chosen = Settings.from_env(
        {
            "CSAT_AFTER_RESOLVE": "0",
            "CSAT_REOPEN_AT_OR_BELOW": "0",
            "CSAT_REVIEW_AT_OR_ABOVE": "4",
            "REVIEW_LINK_URL": "https://example.com/r",
            "SURVEY_REPLY_HOURS": "48",
        }
    )
    assert not chosen.csat_after_resolve and chosen.csat_reopen_at_or_below == 0
    assert (chosen.csat_review_at_or_above, chosen.review_link_url) == (4, "https://example.com/r")
    assert chosen.survey_reply_hours == 48.0


def test_quiet_hours_may_cross_midnight_or_be_off() -> None:
    assert Settings.from_env({"QUIET_HOURS": "21:00-08:00"}).quiet_hours == "21:00-08:00"
    assert Settings.from_env({"QUIET_HOURS": "off"}).quiet_hours == "off"


@pytest.mark.parametrize(
    "name, value",
    [
        ("SMS_POLL_SECONDS", "abc"),
        ("MODEL_SERVER_URL", "127.0.0.1:5007/model"),
        ("MODEL_PULL_SECONDS", "0"),
        ("MODEL_PULL_SECONDS", "soon"),
        ("SMS_RECEIVER_BACKLOG", "0"),
        ("SMS_RECEIVER_BACKLOG", "many"),
        ("SMS_POLL_SECONDS", "-1"),
        ("SMS_PROCESSING_CONCURRENCY", "2.5"),
        ("SMS_PROCESSING_CONCURRENCY", "0"),
        ("SMS_SEGMENT_BUDGET", "two"),
        ("INBOUND_CLAIM_LEASE_SECONDS", "nan"),
        ("OUTBOX_RETRY_CAP_SECONDS", "inf"),
        ("MAX_BOOKING_GUESTS", "eight"),
        ("SMS_NUMBER_TYPE", "pager"),
        ("BUSINESS_HOURS", "9am-6pm"),
        ("BUSINESS_DAYS", "mon,funday"),
        ("BUSINESS_TZ", "Mars/Olympus"),
        ("QUIET_HOURS", "9pm-8am"),
        ("OUTBOUND_POLL_SECONDS", "soon"),
        ("DESK_COOKIE_SECURE", "maybe"),
        ("DESK_MAINTENANCE", "sometimes"),
        ("DESK_PRESENCE_GRACE_SECONDS", "-5"),
        ("DESK_UNANSWERED_SECONDS", "soon"),
        ("DESK_WAIT_OFFER_AFTER_AGENT_SECONDS", "-1"),
        ("QUEUE_REASSURE_SECONDS", "later"),
        ("HANDOFF_TEAMS", "asked"),
        ("SESSION_MAX_EVENTS", "5"),
        ("DEFAULT_COUNTRY_CODE", "+1"),
        ("FAQ_ANSWERS_FILE", "answers.txt"),
        ("FAQ_ANSWERS_FILE", "data"),
        ("CSAT_AFTER_RESOLVE", "perhaps"),
        ("CSAT_AFTER_BOT_TASKS", "sometimes"),
        ("CSAT_REOPEN_AT_OR_BELOW", "6"),
        ("CSAT_REOPEN_AT_OR_BELOW", "low"),
        ("CSAT_REVIEW_AT_OR_ABOVE", "0"),
        ("REVIEW_LINK_URL", "javascript:alert(1)"),
        ("REVIEW_LINK_URL", "example.com/review"),
        ("SURVEY_REPLY_HOURS", "0"),
    ],
)
def test_a_bad_value_names_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({name: value})
    assert name in str(raised.value) and repr(value) in str(raised.value)


def run_module(args: List[str], env: Dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", *args],
        env=child_env({**PLIVO_ENV, **env}),
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "args, name, value",
    [
        (["bot.sms.worker", "--rasa-url", "http://127.0.0.1:9"], "SMS_POLL_SECONDS", "abc"),
        (["bot.sms.worker", "--rasa-url", "http://127.0.0.1:9"], "HANDOFF_TEAMS", "asked"),
        (["bot.sms.receiver", "--port", "9"], "SMS_SEGMENT_BUDGET", "two"),
        (["bot.sms.receiver", "--port", "9"], "BUSINESS_TZ", "Mars/Olympus"),
        (["bot.desk", "--port", "9"], "DESK_MAINTENANCE", "sometimes"),
        (["bot", "migrate"], "SESSION_MAX_EVENTS", "many"),
        (["bot.models_server", "--port", "9"], "MODEL_SERVER_URL", "ftp://x/model"),
    ],
)
def test_a_process_with_a_bad_setting_exits_at_start(
    args: List[str], name: str, value: str, tmp_path: Path
) -> None:
    database = f"sqlite:///{tmp_path / 'bot.db'}"
    done = run_module(args, {name: value, "DATABASE_URL": database})
    assert done.returncode != 0
    last_line = done.stderr.strip().splitlines()[-1]
    assert "bad setting" in last_line and name in last_line and repr(value) in last_line
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "bot.db").exists()  # stopped before touching the database


def test_the_rasa_server_checks_its_settings_before_rasa_starts(tmp_path: Path) -> None:
    done = run_module(
        ["bot.rasa_ext.server", "run", "--port", "9"],
        {"INBOUND_CLAIM_LEASE_SECONDS": "soon", "DATABASE_URL": f"sqlite:///{tmp_path}/b.db"},
    )
    assert done.returncode != 0
    assert "rasa server: bad setting: INBOUND_CLAIM_LEASE_SECONDS" in done.stderr
