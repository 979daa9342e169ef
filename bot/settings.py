"""Settings read from the environment once, with development defaults.

Entry points (the servers' `main`s, the CLI, the Rasa channel's `from_credentials`, the
tracker store's constructor, the actions package's accessor) call
`get_settings()` once and pass the object, or the values, to what needs them. A bad value
raises `SettingsError` naming the variable; `settings_or_exit` turns it into a clean exit.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Tuple, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_ROOT / "var"


# Carrier throughput per sending number (messages/second).
NUMBER_TYPE_RATES = {"long_code": 1.0, "toll_free": 25.0, "short_code": 100.0}
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_REASON_TEAMS: Tuple[Tuple[str, str], ...] = (
    ("asked", "general"),
    ("fallback", "general"),
    ("action_error", "general"),
    ("assistant_error", "general"),
    ("order_issue", "orders"),
    ("booking_issue", "bookings"),
)
# A session also ends after this many events (bot/rasa_ext/session_rollover.py).
DEFAULT_SESSION_MAX_EVENTS = 120
MIN_SESSION_MAX_EVENTS = 10

T = TypeVar("T")


class SettingsError(ValueError):
    """An environment variable has a value the product cannot use."""


def default_database_url() -> str:
    return f"sqlite:///{VAR_DIR / 'bot.db'}"


def tracker_url_for(database_url: str) -> str:
    """Where Rasa's tracker store keeps its events when TRACKER_DATABASE_URL is unset:
    DATABASE_URL, except that an SQLite DATABASE_URL gets a file of its own beside it
    (`bot.db` -> `bot-tracker.db`). SQLite lets one connection write to a file at a time,
    and Rasa writes its trackers from its event loop: sharing the file with the SMS
    bookkeeping would stall the assistant whenever another process is writing."""
    return _sqlite_sibling(database_url, "tracker") or database_url


def _sqlite_sibling(url: str, name: str) -> Optional[str]:
    """`sqlite:///dir/bot.db` -> `sqlite:///dir/bot-<name>.db`; None if not an SQLite file."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url in (prefix, f"{prefix}:memory:"):
        return None
    path = Path(url[len(prefix) :])
    suffix = path.suffix or ".db"
    return f"{prefix}{path.with_name(f'{path.stem}-{name}{suffix}')}"


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=default_database_url)
    # "": derived from database_url (tracker_url_for); set in __post_init__
    tracker_database_url: str = ""
    business_name: str = "Harborview Hotel & Store"
    business_phone: str = "+15005550100"
    default_country_code: str = "1"
    max_booking_guests: int = 8
    max_booking_nights: int = 30
    booking_horizon_days: int = 365
    # SMS (Plivo). Secrets come from the environment (or credentials.yml), never code.
    plivo_auth_id: str = ""
    plivo_auth_token: str = ""
    plivo_number: str = ""
    plivo_api_url: str = "https://api.plivo.com"
    bot_public_url: str = "http://127.0.0.1:5005"
    sms_segment_budget: int = 2
    # FAQ answers + descriptions (data/faq_answers.yml): reread by the action server on change
    faq_answers_file: Path = PROJECT_ROOT / "data" / "faq_answers.yml"
    sms_number_type: str = "long_code"  # long_code | toll_free | short_code
    sms_rate_per_second: float = 0.0  # 0: the number type's carrier limit
    outbox_retry_base_seconds: float = 2.0
    outbox_retry_cap_seconds: float = 300.0
    # A reply Plivo keeps refusing with a retryable error (429/5xx/timeouts) is retried
    # until it is this old, then marked failed: an outage of minutes never loses one.
    outbox_give_up_after_seconds: float = 6 * 3600.0
    plivo_timeout_seconds: float = 8.0
    inbound_claim_lease_seconds: float = 30.0
    sms_processing_concurrency: int = 8  # an SMS worker's turns at once (--concurrency)
    sms_poll_seconds: float = 1.0  # a worker's claim poll without LISTEN (SQLite, fallback)
    # The SMS receiver: its listen backlog (connections the kernel holds while the server
    # is busy; capped by net.core.somaxconn) and Sanic's access log (a line per webhook).
    receiver_backlog: int = 1024
    receiver_access_log: bool = False
    # The Rasa servers' Redis lock store (deploy/scaled.env); "" without one (make run)
    redis_host: str = ""
    redis_port: int = 6379
    # Agent desk
    business_hours: str = "09:00-18:00"
    business_days: str = "mon,tue,wed,thu,fri,sat"
    business_tz: str = "America/New_York"
    # Outbound texts the business starts (bot/outbound/): none inside this local window
    # (the customer's timezone, else BUSINESS_TZ); "" turns quiet hours off.
    quiet_hours: str = "21:00-08:00"
    outbound_poll_seconds: float = 2.0  # how often a worker releases due scheduled texts
    unclaimed_offer_seconds: float = 300.0  # then offer: continue with the bot, or wait
    agent_heartbeat_timeout_seconds: float = 45.0  # then a silent console gets no new chats
    desk_presence_grace_seconds: float = 120.0  # and after this much more, its chats requeue
    desk_unanswered_seconds: float = 300.0  # held this long without a reply: supervisor page
    # no BOT/WAIT offer this soon after an agent's last text (or a transfer) in the chat
    desk_wait_offer_after_agent_seconds: float = 600.0
    queue_reassure_seconds: float = 300.0  # at most one "we've got your message" per window
    agent_capacity: int = 10
    desk_session_hours: float = 12.0
    desk_cookie_secure: bool = True
    desk_maintenance: bool = True  # run the maintenance loop in this console process
    # Surveys (bot/desk/surveys.py, bot/store/surveys.py): CSAT after an agent resolves;
    # a rating at or below the threshold reopens the chat (0: never); at or above the
    # other, the thanks asks for a review at REVIEW_LINK_URL ("" : never); replies count
    # as answers for SURVEY_REPLY_HOURS after the question went out.
    csat_after_resolve: bool = True
    csat_after_bot_tasks: bool = False  # also after a task the assistant did alone
    csat_after_bot_task_seconds: float = 120.0  # that question follows the task's answer
    csat_reopen_at_or_below: int = 2
    csat_review_at_or_above: int = 5
    review_link_url: str = ""
    survey_reply_hours: float = 24.0
    # reason -> team of a handoff (HANDOFF_TEAMS overrides single reasons)
    handoff_teams: Tuple[Tuple[str, str], ...] = DEFAULT_REASON_TEAMS
    # Rasa sessions end after this many events (endpoints.yml's session_max_events wins)
    session_max_events: int = DEFAULT_SESSION_MAX_EVENTS
    # Operations: pid files of the scaled topology; shared Prometheus counter files
    pidfile_dir: Path = VAR_DIR / "run"
    prometheus_multiproc_dir: Optional[str] = None
    # The notification API's bearer tokens (NOTIFY_API_TOKENS, comma-separated; secrets:
    # only in the environment). None configured: the API refuses every call.
    notify_api_tokens: Tuple[str, ...] = ()
    # Live model reload (bot/rasa_ext/model_pull.py, bot/models_server.py): the URL the
    # Rasa servers poll for a newly published model ("" = no polling), how often, and the
    # bearer token the model server asks for ("" = none; set it when not on loopback).
    model_server_url: str = ""
    model_pull_seconds: float = 2.0
    model_server_token: str = ""
    # the model file the model server serves and `python -m bot publish-model` replaces
    model_publish_file: Path = PROJECT_ROOT / "models" / "published" / "sms-bot.tar.gz"

    def __post_init__(self) -> None:
        if not self.tracker_database_url:
            object.__setattr__(self, "tracker_database_url", tracker_url_for(self.database_url))

    def missing_plivo_settings(self) -> List[str]:
        """Names of the Plivo settings the SMS path cannot run without, if unset."""
        required = (
            ("PLIVO_AUTH_ID", self.plivo_auth_id),
            ("PLIVO_AUTH_TOKEN", self.plivo_auth_token),
            ("PLIVO_NUMBER", self.plivo_number),
        )
        return [name for name, value in required if not value]

    @property
    def send_rate_per_second(self) -> float:
        """Messages per second allowed from our number."""
        if self.sms_rate_per_second > 0:
            return self.sms_rate_per_second
        return NUMBER_TYPE_RATES.get(self.sms_number_type, 1.0)

    @property
    def reason_teams(self) -> Dict[str, str]:
        """Reason -> team of a handoff."""
        return dict(self.handoff_teams)

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "Settings":
        """Read and check every variable; SettingsError names the first bad one."""
        read = _Reader(os.environ if env is None else env)
        d = cls()
        database_url = read.text("DATABASE_URL", d.database_url)
        return cls(
            database_url=database_url,
            tracker_database_url=read.text("TRACKER_DATABASE_URL", tracker_url_for(database_url)),
            business_name=read.text("BUSINESS_NAME", d.business_name),
            business_phone=read.text("BUSINESS_PHONE", d.business_phone),
            default_country_code=read.parsed(
                "DEFAULT_COUNTRY_CODE", d.default_country_code, _country_code
            ),
            max_booking_guests=read.integer("MAX_BOOKING_GUESTS", d.max_booking_guests, 1),
            max_booking_nights=read.integer("MAX_BOOKING_NIGHTS", d.max_booking_nights, 1),
            plivo_auth_id=read.text("PLIVO_AUTH_ID", ""),
            plivo_auth_token=read.text("PLIVO_AUTH_TOKEN", ""),
            plivo_number=read.text("PLIVO_NUMBER", ""),
            plivo_api_url=read.text("PLIVO_API_URL", d.plivo_api_url),
            bot_public_url=read.text("BOT_PUBLIC_URL", d.bot_public_url),
            sms_segment_budget=read.integer("SMS_SEGMENT_BUDGET", d.sms_segment_budget, 1),
            faq_answers_file=read.parsed("FAQ_ANSWERS_FILE", d.faq_answers_file, _yaml_file),
            sms_number_type=read.choice("SMS_NUMBER_TYPE", d.sms_number_type, NUMBER_TYPE_RATES),
            sms_rate_per_second=read.number("SMS_RATE_PER_SECOND", 0.0, 0.0),
            outbox_retry_base_seconds=read.number(
                "OUTBOX_RETRY_BASE_SECONDS", d.outbox_retry_base_seconds, 0.0
            ),
            outbox_retry_cap_seconds=read.number(
                "OUTBOX_RETRY_CAP_SECONDS", d.outbox_retry_cap_seconds, 0.0
            ),
            outbox_give_up_after_seconds=read.number(
                "OUTBOX_GIVE_UP_AFTER_SECONDS", d.outbox_give_up_after_seconds, 0.0
            ),
            plivo_timeout_seconds=read.number(
                "PLIVO_TIMEOUT_SECONDS", d.plivo_timeout_seconds, 0.1
            ),
            inbound_claim_lease_seconds=read.number(
                "INBOUND_CLAIM_LEASE_SECONDS", d.inbound_claim_lease_seconds, 1.0
            ),
            sms_processing_concurrency=read.integer(
                "SMS_PROCESSING_CONCURRENCY", d.sms_processing_concurrency, 1
            ),
            sms_poll_seconds=read.number("SMS_POLL_SECONDS", d.sms_poll_seconds, 0.01),
            receiver_backlog=read.integer("SMS_RECEIVER_BACKLOG", d.receiver_backlog, 1),
            receiver_access_log=read.flag("SMS_RECEIVER_ACCESS_LOG", d.receiver_access_log),
            redis_host=read.text("REDIS_HOST", d.redis_host),
            redis_port=read.integer("REDIS_PORT", d.redis_port, 1),
            business_hours=read.parsed("BUSINESS_HOURS", d.business_hours, _hours),
            business_days=read.parsed("BUSINESS_DAYS", d.business_days, _days, empty_ok=True),
            business_tz=read.parsed("BUSINESS_TZ", d.business_tz, _time_zone),
            quiet_hours=read.parsed("QUIET_HOURS", d.quiet_hours, _quiet_hours, empty_ok=True),
            outbound_poll_seconds=read.number(
                "OUTBOUND_POLL_SECONDS", d.outbound_poll_seconds, 0.01
            ),
            unclaimed_offer_seconds=read.number(
                "UNCLAIMED_OFFER_SECONDS", d.unclaimed_offer_seconds, 0.0
            ),
            agent_heartbeat_timeout_seconds=read.number(
                "AGENT_HEARTBEAT_TIMEOUT_SECONDS", d.agent_heartbeat_timeout_seconds, 0.0
            ),
            desk_presence_grace_seconds=read.number(
                "DESK_PRESENCE_GRACE_SECONDS", d.desk_presence_grace_seconds, 0.0
            ),
            desk_unanswered_seconds=read.number(
                "DESK_UNANSWERED_SECONDS", d.desk_unanswered_seconds, 0.0
            ),
            desk_wait_offer_after_agent_seconds=read.number(
                "DESK_WAIT_OFFER_AFTER_AGENT_SECONDS", d.desk_wait_offer_after_agent_seconds, 0.0
            ),
            queue_reassure_seconds=read.number(
                "QUEUE_REASSURE_SECONDS", d.queue_reassure_seconds, 0.0
            ),
            agent_capacity=read.integer("AGENT_CAPACITY", d.agent_capacity, 1),
            desk_session_hours=read.number("DESK_SESSION_HOURS", d.desk_session_hours, 0.01),
            desk_cookie_secure=read.flag("DESK_COOKIE_SECURE", d.desk_cookie_secure),
            desk_maintenance=read.flag("DESK_MAINTENANCE", d.desk_maintenance),
            csat_after_resolve=read.flag("CSAT_AFTER_RESOLVE", d.csat_after_resolve),
            csat_after_bot_tasks=read.flag("CSAT_AFTER_BOT_TASKS", d.csat_after_bot_tasks),
            csat_after_bot_task_seconds=read.number(
                "CSAT_AFTER_BOT_TASK_SECONDS", d.csat_after_bot_task_seconds, 0.0
            ),
            csat_reopen_at_or_below=read.parsed(
                "CSAT_REOPEN_AT_OR_BELOW", d.csat_reopen_at_or_below, _score(0, 5)
            ),
            csat_review_at_or_above=read.parsed(
                "CSAT_REVIEW_AT_OR_ABOVE", d.csat_review_at_or_above, _score(1, 5)
            ),
            review_link_url=read.parsed("REVIEW_LINK_URL", d.review_link_url, _http_url),
            survey_reply_hours=read.number("SURVEY_REPLY_HOURS", d.survey_reply_hours, 0.01),
            handoff_teams=read.parsed(
                "HANDOFF_TEAMS", d.handoff_teams, _handoff_teams, empty_ok=True
            ),
            session_max_events=read.integer(
                "SESSION_MAX_EVENTS", d.session_max_events, MIN_SESSION_MAX_EVENTS
            ),
            pidfile_dir=Path(read.text("PIDFILE_DIR", str(d.pidfile_dir))),
            prometheus_multiproc_dir=read.text("PROMETHEUS_MULTIPROC_DIR", "") or None,
            notify_api_tokens=_api_tokens(read.raw("NOTIFY_API_TOKENS")),
            model_server_url=read.parsed("MODEL_SERVER_URL", d.model_server_url, _http_url),
            model_pull_seconds=read.number("MODEL_PULL_SECONDS", d.model_pull_seconds, 0.2),
            model_server_token=read.text("MODEL_SERVER_TOKEN", d.model_server_token),
            model_publish_file=PROJECT_ROOT
            / read.text("MODEL_PUBLISH_FILE", str(d.model_publish_file)),
        )


class _Reader:
    """Typed reads of environment variables; an empty value means the default."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env

    def raw(self, name: str) -> Optional[str]:
        value = self.env.get(name)
        return None if value is None or value.strip() == "" else value.strip()

    def text(self, name: str, default: str) -> str:
        value = self.raw(name)
        return default if value is None else value

    def integer(self, name: str, default: int, minimum: int) -> int:
        value = self.raw(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise SettingsError(f"{name} must be a whole number, got {value!r}") from None
        if number < minimum:
            raise SettingsError(f"{name} must be at least {minimum}, got {value!r}")
        return number

    def number(self, name: str, default: float, minimum: float) -> float:
        value = self.raw(name)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            raise SettingsError(f"{name} must be a number, got {value!r}") from None
        if not minimum <= number < float("inf"):
            raise SettingsError(f"{name} must be a number of at least {minimum}, got {value!r}")
        return number

    def flag(self, name: str, default: bool) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        if value.lower() in ("1", "true", "yes", "on"):
            return True
        if value.lower() in ("0", "false", "no", "off"):
            return False
        raise SettingsError(f"{name} must be 1/true/yes or 0/false/no, got {value!r}")

    def choice(self, name: str, default: str, choices: Mapping[str, object]) -> str:
        value = self.text(name, default)
        if value not in choices:
            raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
        return value

    def parsed(self, name: str, default: T, parse: Callable[[str], T], empty_ok: bool = False) -> T:
        """`parse(value)`, whose ValueError becomes a SettingsError naming the variable.
        `empty_ok`: a variable set to "" is parsed (e.g. BUSINESS_DAYS="" : never open)."""
        value = self.env.get(name)
        if value is None or (value.strip() == "" and not empty_ok):
            return default
        try:
            return parse(value.strip())
        except ValueError as error:
            raise SettingsError(f"{name}: {error}, got {value!r}") from None


API_TOKEN_MIN_LENGTH = 16


def _api_tokens(value: Optional[str]) -> Tuple[str, ...]:
    """Comma-separated tokens, each 16+ visible characters; the error never shows them."""
    if value is None:
        return ()
    tokens = tuple(token.strip() for token in value.split(","))
    for position, token in enumerate(tokens, 1):
        if len(token) < API_TOKEN_MIN_LENGTH or not token.isprintable() or " " in token:
            raise SettingsError(
                f"NOTIFY_API_TOKENS: token {position} must be at least "
                f"{API_TOKEN_MIN_LENGTH} characters without spaces (tokens are not shown)"
            )
    return tokens


def _http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")) or len(value) < 10:
        raise ValueError("expected an http(s) URL, e.g. http://127.0.0.1:5007/model")
    return value


def _country_code(value: str) -> str:
    if not value.isdigit() or len(value) > 3:
        raise ValueError("must be 1 to 3 digits")
    return value


def _quiet_hours(value: str) -> str:
    """ "HH:MM-HH:MM" across midnight allowed, or "off"."""
    if value.strip().lower() in ("", "off", "none"):
        return value
    return _hours(value.replace("24:00", "00:00"))


def _hours(value: str) -> str:
    """ "HH:MM-HH:MM" (24:00 allowed as the end)."""
    import datetime as dt

    parts = value.split("-")
    if len(parts) != 2:
        raise ValueError("must look like 09:00-18:00")
    start, end = (part.strip() for part in parts)
    try:
        dt.time.fromisoformat(start)
        if end != "24:00":
            dt.time.fromisoformat(end)
    except ValueError:
        raise ValueError("must look like 09:00-18:00") from None
    return value


def _days(value: str) -> str:
    """Comma-separated day names (mon..sun; longer names are cut to three letters)."""
    days = [d.strip()[:3].lower() for d in value.split(",") if d.strip()]
    unknown = [d for d in days if d not in DAY_NAMES]
    if unknown:
        raise ValueError(f"unknown day {unknown[0]!r} (use {','.join(DAY_NAMES)})")
    return value


def _yaml_file(value: str) -> Path:
    path = Path(value)
    if path.suffix not in (".yml", ".yaml") or path.is_dir():
        raise ValueError("must be the path of a .yml file")
    return path if path.is_absolute() else PROJECT_ROOT / path


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("not a known time zone (e.g. America/New_York)") from None
    return value


def _score(low: int, high: int) -> Callable[[str], int]:
    """A parser of a whole number from `low` to `high`."""

    def parse(value: str) -> int:
        if not value.isdigit() or not low <= int(value) <= high:
            raise ValueError(f"must be a whole number from {low} to {high}")
        return int(value)

    return parse


def _http_url(value: str) -> str:
    """An absolute http(s) URL without spaces (it is sent in a text)."""
    from urllib.parse import urlsplit

    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in value):
        raise ValueError("must be an http(s) URL, e.g. https://example.com/review")
    return value


def _handoff_teams(value: str) -> Tuple[Tuple[str, str], ...]:
    """ "asked=general,fallback=orders" over the default reason -> team pairs."""
    teams = dict(DEFAULT_REASON_TEAMS)
    for pair in value.split(","):
        if not pair.strip():
            continue
        reason, sep, team = pair.partition("=")
        if not sep or not reason.strip() or not team.strip():
            raise ValueError(f"expected reason=team pairs separated by commas, not {pair!r}")
        teams[reason.strip()] = team.strip()
    return tuple(teams.items())


def get_settings() -> Settings:
    """The settings of this process, read from the environment (call it once, at start)."""
    return Settings.from_env()


def settings_or_exit(program: str) -> Settings:
    """get_settings() for a process's main: a bad value exits non-zero, naming it."""
    try:
        return get_settings()
    except SettingsError as error:
        raise SystemExit(f"{program}: bad setting: {error}") from None
