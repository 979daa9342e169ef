"""SQLAlchemy models: the project's own tables (Rasa's `events` table lives beside them)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import declarative_base, relationship, validates

from bot.text.names import FIRST_NAME_LENGTH, first_name_of

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
Base = declarative_base(metadata=MetaData(naming_convention=NAMING))


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class Customer(Base):
    __tablename__ = "customers"

    id = Column(Integer, primary_key=True)
    phone = Column(String(16), nullable=False, unique=True)  # E.164
    name = Column(String(120))
    first_name = Column(String(FIRST_NAME_LENGTH))  # for replies; set with `name`
    email = Column(String(200))
    opted_out = Column(Boolean, nullable=False, default=False)
    opted_out_at = Column(DateTime)
    timezone = Column(String(64))  # IANA name ("Europe/Paris"); None: BUSINESS_TZ
    created_at = Column(DateTime, nullable=False, default=utcnow)

    orders = relationship("Order", back_populates="customer")
    booking_requests = relationship("BookingRequest", back_populates="customer")

    @validates("name")
    def _name_sets_first_name(self, key: str, name: str) -> str:
        """Setting the name also sets the first name (its first word)."""
        self.first_name = first_name_of(name)
        return name


class Order(Base):
    __tablename__ = "orders"

    id = Column(Integer, primary_key=True)
    number = Column(String(16), nullable=False, unique=True)
    customer_id = Column(ForeignKey("customers.id"), nullable=False, index=True)
    status = Column(String(20), nullable=False)  # processing|shipped|delivered|cancelled
    carrier = Column(String(40))
    tracking_number = Column(String(60))
    eta = Column(Date)
    summary = Column(String(200))
    placed_at = Column(DateTime, nullable=False, default=utcnow)

    customer = relationship("Customer", back_populates="orders")


class BookingRequest(Base):
    __tablename__ = "booking_requests"

    id = Column(Integer, primary_key=True)
    customer_id = Column(ForeignKey("customers.id"), nullable=False, index=True)
    check_in = Column(Date, nullable=False)
    check_out = Column(Date, nullable=False)
    guests = Column(Integer, nullable=False)
    room_type = Column(String(30))
    notes = Column(Text)
    # requested -> confirmed | declined (staff), cancelled (the customer); every change is
    # a row of booking_request_history
    status = Column(String(20), nullable=False, default="requested")
    source_message_id = Column(String(64), unique=True)  # the text that asked (idempotency)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    customer = relationship("Customer", back_populates="booking_requests")


class BookingRequestHistory(Base):
    """One change of a room request: who (an agent, the customer, the bot), the status before
    and after, the note, the fields changed, and the outcome text it asked for, if any."""

    __tablename__ = "booking_request_history"

    id = Column(Integer, primary_key=True)
    request_id = Column(ForeignKey("booking_requests.id"), nullable=False, index=True)
    at = Column(DateTime, nullable=False, default=utcnow)
    actor = Column(String(10), nullable=False)  # agent|customer|bot
    agent_id = Column(ForeignKey("agents.id"))  # set when actor is agent
    from_status = Column(String(20))  # None: the request was made
    to_status = Column(String(20), nullable=False)
    note = Column(Text)
    changed = Column(Text)  # JSON {"field": [old, new]}
    outbound_text_id = Column(ForeignKey("outbound_texts.id"))  # the outcome text


class Conversation(Base):
    """One per customer phone, with exactly one owner: `bot`, `queue` or `agent`."""

    __tablename__ = "conversations"

    id = Column(Integer, primary_key=True)
    phone = Column(String(16), nullable=False, unique=True)
    owner = Column(String(10), nullable=False, default="bot", server_default="bot", index=True)
    agent_id = Column(ForeignKey("agents.id"), index=True)
    team = Column(String(40))
    handoff_id = Column(ForeignKey("handoff_requests.id"))  # the current handoff
    queued_at = Column(DateTime)  # position in the queue (kept when put back)
    wait_offer_sent_at = Column(DateTime)
    handback_pending = Column(Boolean, nullable=False, default=False, server_default="0")
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)


class Agent(Base):
    __tablename__ = "agents"

    id = Column(Integer, primary_key=True)
    username = Column(String(60), nullable=False, unique=True)
    name = Column(String(120), nullable=False)
    password_hash = Column(String(255), nullable=False)
    role = Column(String(20), nullable=False, default="agent")  # agent|supervisor
    teams = Column(String(200), nullable=False, default="general")  # comma-separated
    capacity = Column(Integer, nullable=False, default=10)
    status = Column(String(10), nullable=False, default="offline")  # online|away|offline
    last_seen_at = Column(DateTime)
    active = Column(Boolean, nullable=False, default=True)
    # the desk hands this person waiting chats (agents yes; supervisors only if they opt in)
    auto_assign = Column(Boolean, nullable=False, default=True, server_default="1")
    created_at = Column(DateTime, nullable=False, default=utcnow)


class AgentSession(Base):
    """A signed-in browser: the cookie holds the token, the table only its hash."""

    __tablename__ = "agent_sessions"

    id = Column(Integer, primary_key=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    agent_id = Column(ForeignKey("agents.id"), nullable=False, index=True)
    csrf_token = Column(String(64), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    expires_at = Column(DateTime, nullable=False)


class LoginAttempt(Base):
    __tablename__ = "login_attempts"

    id = Column(Integer, primary_key=True)
    key = Column(String(200), nullable=False, index=True)  # "user:<name>" or "ip:<addr>"
    success = Column(Boolean, nullable=False, default=False)
    at = Column(DateTime, nullable=False, default=utcnow, index=True)


class AgentRead(Base):
    """How far an agent has read a conversation (for unread counts)."""

    __tablename__ = "agent_reads"

    agent_id = Column(ForeignKey("agents.id"), primary_key=True)
    conversation_id = Column(ForeignKey("conversations.id"), primary_key=True)
    last_message_id = Column(Integer, nullable=False, default=0)


class Note(Base):
    """Internal notes (never sent to the customer), also written on transfers."""

    __tablename__ = "notes"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(ForeignKey("conversations.id"), nullable=False, index=True)
    agent_id = Column(ForeignKey("agents.id"))
    text = Column(Text, nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)


class CannedReply(Base):
    """A saved text agents insert into a reply; supervisors edit them (bot/desk/canned.py)."""

    __tablename__ = "canned_replies"

    id = Column(Integer, primary_key=True)
    title = Column(String(80), nullable=False)
    text = Column(Text, nullable=False)  # {first_name}, {agent}: filled when inserted
    team = Column(String(40))  # None: every team
    created_at = Column(DateTime, default=utcnow)
    updated_at = Column(DateTime, default=utcnow, onupdate=utcnow)
    updated_by = Column(Integer)  # the supervisor's agent id (None: the built-in defaults)
    deleted_at = Column(DateTime)  # deleted by a supervisor (kept: defaults are seeded once)


class DeskEvent(Base):
    """Change feed the consoles follow (by id), so live updates cross processes."""

    __tablename__ = "desk_events"

    id = Column(Integer, primary_key=True)
    kind = Column(String(30), nullable=False)
    conversation_id = Column(Integer, index=True)
    agent_id = Column(Integer)
    team = Column(String(40))
    actor_id = Column(Integer)  # who moved the chat (transfer: the sender; reassign: supervisor)
    from_agent_id = Column(Integer)  # who held it before (reassign)
    created_at = Column(DateTime, nullable=False, default=utcnow, index=True)


INBOUND_QUEUE_WHERE = text("direction = 'in' AND status IN ('received', 'processing')")


class Message(Base):
    """The transcript: every inbound text (also the inbound work queue) and every reply."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("provider_uuid"),
        # The inbound queue's claim (bot/sms/queue.py): unfinished texts by conversation,
        # and by arrival.
        Index(
            "ix_messages_inbound_queue",
            "conversation_id",
            "id",
            postgresql_where=INBOUND_QUEUE_WHERE,
            sqlite_where=INBOUND_QUEUE_WHERE,
        ),
        Index(
            "ix_messages_inbound_waiting",
            "id",
            postgresql_where=INBOUND_QUEUE_WHERE,
            sqlite_where=INBOUND_QUEUE_WHERE,
        ),
    )

    id = Column(Integer, primary_key=True)
    conversation_id = Column(ForeignKey("conversations.id"), nullable=False, index=True)
    direction = Column(String(3), nullable=False)  # in|out
    author = Column(String(40), nullable=False)  # customer|bot|agent:<id>|system
    text = Column(Text, nullable=False, default="")
    provider_uuid = Column(String(64))  # Plivo MessageUUID of an inbound text
    kind = Column(String(10), nullable=False, default="sms")  # sms|mms
    media = Column(Text)  # JSON list of media URLs (MMS)
    provider_intent = Column(String(10))  # Plivo's MessageIntent: optout|optin|help
    # inbound: received -> processing -> processed|failed|ignored; outbound: "out"
    status = Column(String(20), nullable=False, default="received", index=True)
    error = Column(Text)
    claimed_at = Column(DateTime)
    processed_at = Column(DateTime)
    created_at = Column(DateTime, nullable=False, default=utcnow)


class OutboxMessage(Base):
    """One outgoing SMS: queued -> sending -> sent -> delivered|undelivered|failed."""

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("provider_uuid"),)

    id = Column(Integer, primary_key=True)
    message_id = Column(ForeignKey("messages.id"), index=True)
    in_reply_to = Column(ForeignKey("messages.id"), index=True)
    phone = Column(String(16), nullable=False, index=True)
    text = Column(Text, nullable=False)
    kind = Column(String(20), nullable=False, default="reply")  # reply|compliance|agent|...
    encoding = Column(String(8), nullable=False)
    segments = Column(Integer, nullable=False)
    buttons = Column(Text)  # JSON [{"title","payload"}] offered as numbered choices
    overflow = Column(Text)  # what did not fit the segment budget (sent on MORE)
    status = Column(String(20), nullable=False, default="queued", index=True)
    attempts = Column(Integer, nullable=False, default=0)
    ambiguous = Column(Boolean, nullable=False, default=False)  # maybe accepted by Plivo
    next_attempt_at = Column(DateTime, nullable=False, default=utcnow)
    last_attempt_at = Column(DateTime)
    provider_uuid = Column(String(64))
    error_code = Column(String(20))
    error = Column(Text)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    sent_at = Column(DateTime)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)


class DeliveryReport(Base):
    """Every delivery report Plivo sent (it may arrive before we stored the uuid)."""

    __tablename__ = "delivery_reports"

    id = Column(Integer, primary_key=True)
    provider_uuid = Column(String(64), nullable=False, index=True)
    status = Column(String(20), nullable=False)
    error_code = Column(String(20))
    received_at = Column(DateTime, nullable=False, default=utcnow)


class WebhookNonce(Base):
    """Signature nonces already seen: a replayed webhook is refused."""

    __tablename__ = "webhook_nonces"

    nonce = Column(String(128), primary_key=True)
    seen_at = Column(DateTime, nullable=False, default=utcnow, index=True)


class TurnWrite(Base):
    """A write an action made for one inbound text (its MessageUUID): a turn replayed after
    a crash finds it here and does not write again."""

    __tablename__ = "turn_writes"

    message_id = Column(String(64), primary_key=True)
    action = Column(String(40), primary_key=True)  # stay_note | handoff
    created_at = Column(DateTime, nullable=False, default=utcnow)


class HandoffRequest(Base):
    """One stretch of a conversation with people: queued -> claimed -> resolved."""

    __tablename__ = "handoff_requests"

    id = Column(Integer, primary_key=True)
    phone = Column(String(16), nullable=False, index=True)
    reason = Column(String(40), nullable=False)  # asked|fallback|action_error|...
    team = Column(String(40), nullable=False, default="general")
    detail = Column(Text)
    # open (queued) | claimed | resolved | returned (customer went back to the bot)
    status = Column(String(20), nullable=False, default="open")
    agent_id = Column(Integer)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    claimed_at = Column(DateTime)
    first_reply_at = Column(DateTime)
    resolved_at = Column(DateTime)


class OutboundText(Base):
    """A text the business starts (survey, notification, notice): the outbound service's
    record of it, whatever became of it (bot/outbound/).

    scheduled (waits for `not_before`, e.g. the end of quiet hours) -> queued (an outbox
    row exists; sent/delivered/failed are read from it), or suppressed with a reason.
    """

    __tablename__ = "outbound_texts"
    __table_args__ = (
        UniqueConstraint("kind", "idempotency_key", name="uq_outbound_texts_kind_key"),
        Index("ix_outbound_texts_due", "status", "not_before"),
    )

    id = Column(Integer, primary_key=True)
    phone = Column(String(16), nullable=False, index=True)
    customer_id = Column(ForeignKey("customers.id"), index=True)
    kind = Column(String(30), nullable=False)  # survey|nps|request_outcome|notification|...
    body = Column(Text, nullable=False)
    idempotency_key = Column(String(200), nullable=False)
    batch = Column(String(64), index=True)  # a list sent together (progress by batch)
    status = Column(String(20), nullable=False)  # scheduled|queued|suppressed
    suppress_reason = Column(String(40))
    order_number = Column(String(16))  # the order it is about: replies' context once sent
    not_before = Column(DateTime)  # UTC; set while scheduled
    outbox_id = Column(ForeignKey("outbox.id"), index=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    queued_at = Column(DateTime)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)


class NotificationRequest(Base):
    """One call of the notification API: its idempotency key, scoped to the calling token
    (a SHA-256 fingerprint, never the token), the body's hash, and its texts' batch."""

    __tablename__ = "notification_requests"
    __table_args__ = (
        UniqueConstraint(
            "token_fingerprint", "idempotency_key", name="uq_notification_requests_token_key"
        ),
    )

    id = Column(Integer, primary_key=True)
    token_fingerprint = Column(String(64), nullable=False)
    idempotency_key = Column(String(200), nullable=False)
    body_hash = Column(String(64), nullable=False)
    batch = Column(String(64), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)


class ReviewLabel(Base):
    """A supervisor's label for a text the bot failed (the console's Review page):
    an intent, `out_of_scope`, or NULL (skipped). Keyed by the normalised, masked text
    (bot/review/collect.py), never by who sent it."""

    __tablename__ = "review_labels"

    id = Column(Integer, primary_key=True)
    text_key = Column(String(500), nullable=False, unique=True)
    text = Column(Text, nullable=False)  # the masked text as shown
    label = Column(String(100))  # NULL: skipped
    decided_by = Column(ForeignKey("agents.id"), index=True)
    decided_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)


class Survey(Base):
    """A CSAT (1-5, after an agent resolved a chat) or NPS (0-10, a campaign) question
    sent to a customer, and the answer: the score and the rest of the text as comment."""

    __tablename__ = "surveys"
    __table_args__ = (
        UniqueConstraint("outbound_id", name="uq_surveys_outbound_id"),
        Index("ix_surveys_phone_open", "phone", "answered_at"),
        Index("ix_surveys_answered", "kind", "answered_at"),
    )

    id = Column(Integer, primary_key=True)
    kind = Column(String(10), nullable=False)  # csat | nps
    phone = Column(String(16), nullable=False)
    customer_id = Column(ForeignKey("customers.id"), index=True)
    conversation_id = Column(ForeignKey("conversations.id"), index=True)
    handoff_id = Column(ForeignKey("handoff_requests.id"), index=True)
    agent_id = Column(ForeignKey("agents.id"), index=True)  # who resolved the chat
    team = Column(String(40))
    campaign_id = Column(ForeignKey("nps_campaigns.id"), index=True)
    outbound_id = Column(ForeignKey("outbound_texts.id"), nullable=False)
    asked_at = Column(DateTime, nullable=False, default=utcnow)
    answered_at = Column(DateTime)
    score = Column(Integer)
    comment = Column(Text)
    answer_message_id = Column(Integer)  # the text that answered (a replayed turn finds it)
    why_asked_at = Column(DateTime)  # NPS: "why?" asked; the next text is the comment
    reopened = Column(Boolean, nullable=False, default=False, server_default="0")


class NpsCampaign(Base):
    """An NPS question sent to the customers a supervisor's filter chose."""

    __tablename__ = "nps_campaigns"

    id = Column(Integer, primary_key=True)
    name = Column(String(80), nullable=False)
    created_by = Column(ForeignKey("agents.id"))
    created_at = Column(DateTime, nullable=False, default=utcnow)
    days = Column(Integer, nullable=False)  # last contact within this many days
    team = Column(String(40))  # None: any team
    csat_min = Column(Integer)
    csat_max = Column(Integer)
    matched = Column(Integer, nullable=False, default=0)


class DeskMaintenanceBeat(Base):
    """The desk maintenance loop's heartbeat: one row per loop name, rewritten after each
    successful round (bot/desk/maintenance_beat.py); who wrote it, for the operator."""

    __tablename__ = "desk_maintenance"

    name = Column(String(40), primary_key=True)
    beat_at = Column(DateTime, nullable=False)  # UTC, naive like every time here
    host = Column(String(255), nullable=False)
    pid = Column(Integer, nullable=False)
