"""Settings read from the environment once, with development defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_ROOT / "var"


# Carrier throughput per sending number (messages/second).
NUMBER_TYPE_RATES = {"long_code": 1.0, "toll_free": 25.0, "short_code": 100.0}


def default_database_url() -> str:
    return f"sqlite:///{VAR_DIR / 'bot.db'}"


def database_url() -> str:
    """DATABASE_URL, else the embedded SQLite file (read alone: it is needed per transaction)."""
    return os.environ.get("DATABASE_URL") or default_database_url()


def tracker_database_url() -> str:
    """Where Rasa's tracker store keeps its events: TRACKER_DATABASE_URL, else DATABASE_URL,
    except that an SQLite DATABASE_URL gets a file of its own beside it (`bot.db` ->
    `bot-tracker.db`). SQLite lets one connection write to a file at a time, and Rasa
    writes its trackers from its event loop: sharing the file with the SMS bookkeeping
    would stall the assistant whenever another process is writing."""
    explicit = os.environ.get("TRACKER_DATABASE_URL")
    if explicit:
        return explicit
    return _sqlite_sibling(database_url(), "tracker") or database_url()


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
    sms_number_type: str = "long_code"  # long_code | toll_free | short_code
    sms_rate_per_second: float = 0.0  # 0: the number type's carrier limit
    outbox_retry_base_seconds: float = 2.0
    outbox_retry_cap_seconds: float = 300.0
    plivo_timeout_seconds: float = 8.0
    inbound_claim_lease_seconds: float = 30.0
    sms_processing_concurrency: int = 8  # an SMS worker's turns at once (--concurrency)
    sms_poll_seconds: float = 1.0  # a worker's claim poll without LISTEN (SQLite, fallback)
    # The Rasa servers' Redis lock store (deploy/scaled.env); "" without one (make run)
    redis_host: str = ""
    redis_port: int = 6379
    # Agent desk
    business_hours: str = "09:00-18:00"
    business_days: str = "mon,tue,wed,thu,fri,sat"
    business_tz: str = "America/New_York"
    unclaimed_offer_seconds: float = 300.0  # then offer: continue with the bot, or wait
    agent_heartbeat_timeout_seconds: float = 45.0
    agent_capacity: int = 10
    desk_session_hours: float = 12.0
    desk_cookie_secure: bool = True

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

    @classmethod
    def from_env(cls) -> "Settings":
        env = os.environ
        defaults = cls()
        return cls(
            database_url=database_url(),
            business_name=env.get("BUSINESS_NAME", defaults.business_name),
            business_phone=env.get("BUSINESS_PHONE", defaults.business_phone),
            default_country_code=env.get("DEFAULT_COUNTRY_CODE", defaults.default_country_code),
            max_booking_guests=int(env.get("MAX_BOOKING_GUESTS", defaults.max_booking_guests)),
            max_booking_nights=int(env.get("MAX_BOOKING_NIGHTS", defaults.max_booking_nights)),
            plivo_auth_id=env.get("PLIVO_AUTH_ID", ""),
            plivo_auth_token=env.get("PLIVO_AUTH_TOKEN", ""),
            plivo_number=env.get("PLIVO_NUMBER", ""),
            plivo_api_url=env.get("PLIVO_API_URL") or defaults.plivo_api_url,
            bot_public_url=env.get("BOT_PUBLIC_URL") or defaults.bot_public_url,
            sms_segment_budget=int(env.get("SMS_SEGMENT_BUDGET", defaults.sms_segment_budget)),
            sms_number_type=env.get("SMS_NUMBER_TYPE", defaults.sms_number_type),
            sms_rate_per_second=float(env.get("SMS_RATE_PER_SECOND", 0) or 0),
            outbox_retry_base_seconds=float(
                env.get("OUTBOX_RETRY_BASE_SECONDS", defaults.outbox_retry_base_seconds)
            ),
            outbox_retry_cap_seconds=float(
                env.get("OUTBOX_RETRY_CAP_SECONDS", defaults.outbox_retry_cap_seconds)
            ),
            plivo_timeout_seconds=float(
                env.get("PLIVO_TIMEOUT_SECONDS", defaults.plivo_timeout_seconds)
            ),
            inbound_claim_lease_seconds=float(
                env.get("INBOUND_CLAIM_LEASE_SECONDS", defaults.inbound_claim_lease_seconds)
            ),
            sms_processing_concurrency=int(
                env.get("SMS_PROCESSING_CONCURRENCY", defaults.sms_processing_concurrency)
            ),
            sms_poll_seconds=float(env.get("SMS_POLL_SECONDS", defaults.sms_poll_seconds)),
            redis_host=env.get("REDIS_HOST", defaults.redis_host),
            redis_port=int(env.get("REDIS_PORT") or defaults.redis_port),
            business_hours=env.get("BUSINESS_HOURS", defaults.business_hours),
            business_days=env.get("BUSINESS_DAYS", defaults.business_days),
            business_tz=env.get("BUSINESS_TZ", defaults.business_tz),
            unclaimed_offer_seconds=float(
                env.get("UNCLAIMED_OFFER_SECONDS", defaults.unclaimed_offer_seconds)
            ),
            agent_heartbeat_timeout_seconds=float(
                env.get("AGENT_HEARTBEAT_TIMEOUT_SECONDS", defaults.agent_heartbeat_timeout_seconds)
            ),
            agent_capacity=int(env.get("AGENT_CAPACITY", defaults.agent_capacity)),
            desk_session_hours=float(env.get("DESK_SESSION_HOURS", defaults.desk_session_hours)),
            desk_cookie_secure=env.get("DESK_COOKIE_SECURE", "1") not in ("0", "false", "no"),
        )


def get_settings() -> Settings:
    """Current settings (read from the environment on every call; cheap)."""
    return Settings.from_env()
