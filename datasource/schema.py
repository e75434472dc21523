"""Tables of the order store (SQLAlchemy 2 declarative models).

All timestamps are stored as naive UTC (``timestamp without time zone``) through
``UTCDateTime``, which refuses naive datetimes on the way in and returns aware UTC
datetimes on the way out, so a local time can never be stored by mistake.

``stage_visits`` is derived from ``order_events`` by ``datasource.visits`` and kept
current on every ingest, so metrics never replay the event log.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ORDER_STATUSES = ("open", "completed", "cancelled")
EVENT_TYPES = ("enter", "complete", "exception", "resolve", "note", "cancel")


def stored_utc(value: datetime) -> datetime:
    """How an instant is stored: naive UTC. A naive datetime is refused (it could be any
    zone's wall-clock time)."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: convert to UTC before storing")
    return value.astimezone(timezone.utc).replace(tzinfo=None)


class UTCDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else stored_utc(value)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


class Base(DeclarativeBase):
    pass


class StageRow(Base):
    __tablename__ = "stages"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    label_zh: Mapped[str] = mapped_column(String(64))
    label_en: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    sla_hours: Mapped[float] = mapped_column(Float)
    department: Mapped[str] = mapped_column(String(64), default="")
    terminal: Mapped[bool] = mapped_column(Boolean, default=False)
    optional: Mapped[bool] = mapped_column(Boolean, default=False)


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_number: Mapped[str] = mapped_column(String(64), unique=True)
    customer: Mapped[str | None] = mapped_column(String(128))
    channel: Mapped[str | None] = mapped_column(String(64))
    production_line: Mapped[str | None] = mapped_column(String(64))
    product_line: Mapped[str | None] = mapped_column(String(64))
    owner: Mapped[str | None] = mapped_column(String(64))
    quantity: Mapped[int | None] = mapped_column(Integer)
    amount: Mapped[float | None] = mapped_column(Float)
    priority: Mapped[str | None] = mapped_column(String(16))
    # The deadline promised to the customer: an instant. A promised *date* is stored as
    # the end of that day in the time zone the data was recorded in.
    promised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="open")
    current_stage: Mapped[str | None] = mapped_column(String(32))
    current_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    placed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Cancelled by an attribute of the source (a status column) rather than an event.
    cancelled_flag: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str | None] = mapped_column(String(128))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_orders_status_stage", "status", "current_stage"),
        Index("ix_orders_completed_at", "completed_at"),
        Index("ix_orders_placed_at", "placed_at"),
        Index("ix_orders_promised_at", "promised_at"),
        # Cancelled orders that matter to a window (metrics: metrics.frames.window_orders).
        Index("ix_orders_cancelled_at", "cancelled_at"),
        # The open orders placed by now (WIP, overdue, at risk: metrics.populations.wip_conditions)
        # as one range: with planner statistics SQLite would otherwise read them through
        # placed_at or promised_at alone, that is nearly every order.
        Index("ix_orders_status_placed", "status", "placed_at"),
    )


class OrderEvent(Base):
    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Stable id: re-sending the same event is harmless. Unique through ``ux_events_uid``.
    event_uid: Mapped[str] = mapped_column(String(128))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    stage_code: Mapped[str | None] = mapped_column(String(32))
    event_type: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    operator: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(128))
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        # A unique index, not a table constraint: a whole load into a fresh store drops it
        # and builds it once at the end (``bulk.secondary_indexes_rebuilt``), which SQLite
        # cannot do with a constraint (``store.UNIQUE_INDEXES`` converts older stores).
        Index("ux_events_uid", "event_uid", unique=True),
        Index("ix_events_order_time", "order_id", "occurred_at"),
    )


class StageVisit(Base):
    """One stay of an order in a stage: entered, left (None while it is still there)."""

    __tablename__ = "stage_visits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    stage_code: Mapped[str] = mapped_column(String(32))
    visit_no: Mapped[int] = mapped_column(Integer, default=1)
    is_rework: Mapped[bool] = mapped_column(Boolean, default=False)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Seconds from entered to left; negative when milestones are out of order (an anomaly
    # that metrics leave out of stage statistics and count).
    duration_s: Mapped[float | None] = mapped_column(Float)
    operator: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        # Covering for the stage statistics of a window: an index-only range scan, no
        # lookups into the table (10x faster on 8M visits).
        Index("ix_visits_stage_left", "stage_code", "left_at", "duration_s", "is_rework"),
        Index("ix_visits_order", "order_id"),
        # Who is at each order's current stage (the open visits only: small), index-only
        # (alert routing to the stage's operator: metrics.alert_rules).
        Index("ix_visits_open", "order_id", "operator", sqlite_where=text("left_at IS NULL"),
              postgresql_where=text("left_at IS NULL")),
    )


class OrderException(Base):
    __tablename__ = "exceptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exception_uid: Mapped[str] = mapped_column(String(128), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    stage_code: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16), default="medium")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    owner: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_exceptions_opened", "opened_at"),
        Index("ix_exceptions_resolved", "resolved_at"),
        Index("ix_exceptions_order", "order_id"),
    )


class DataQualityFinding(Base):
    """Something odd about the source data, recorded as found, never silently fixed."""

    __tablename__ = "data_quality_findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    finding_uid: Mapped[str] = mapped_column(String(160))  # unique: ux_findings_uid
    order_number: Mapped[str | None] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(48), index=True)
    detail: Mapped[str] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(256))
    line: Mapped[int | None] = mapped_column(Integer)
    found_at: Mapped[datetime] = mapped_column(UTCDateTime)

    # A unique index rather than a constraint, as ``OrderEvent.event_uid``.
    __table_args__ = (Index("ux_findings_uid", "finding_uid", unique=True),)


class OrderChange(Base):
    """A stored value of an order that a later source changed: which field, the value
    before and after (text: ISO 8601 UTC for instants), where the new value came from
    (source file and line) and when it was recorded. ``field`` is an attribute name
    (``promised_at``, ``customer``...), ``cancelled``, or ``enter:<stage>`` for a
    milestone's time."""

    __tablename__ = "order_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(String(48))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(256))
    line: Mapped[int | None] = mapped_column(Integer)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class AuditEntry(Base):
    """Who changed or exported what."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str | None] = mapped_column(String(256), index=True)
    detail: Mapped[str | None] = mapped_column(Text)


# --- Access (DESIGN.md section 5a): users, their data scopes, wall display tokens and
# the failed-login counters that lock an account or an address for a while.

ROLES = ("viewer", "manager", "admin")


class User(Base):
    """One person who logs in. ``session_epoch`` moves when the password changes or the
    user is disabled, which ends every session signed in before."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(256))
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class UserScope(Base):
    """One allowed value of one dimension for a user (``datasource.scope``)."""

    __tablename__ = "user_scopes"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(128), primary_key=True)


class DisplayToken(Base):
    """A wall TV's read-only sign-in: one wall setting (its query) and one scope (JSON
    pairs, or null for all orders). Only the SHA-256 of the secret is stored."""

    __tablename__ = "display_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(128), default="")
    wall_query: Mapped[str] = mapped_column(Text, default="")
    scope: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginThrottle(Base):
    """Failed logins in a row for one account (``user:NAME``) or address (``addr:IP``)."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StoreMeta(Base):
    """Key/value facts about the store; ``data_version`` moves on every write."""

    __tablename__ = "store_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))


# --- Alerts (DESIGN.md section 5a): rule instances, who was told, deliveries, silences.

ALERT_STATES = ("pending", "firing", "resolved")


class AlertInstance(Base):
    """One episode of one alert rule about one thing (an order, a stage, an exception or
    a scope): pending (the condition holds, for less than the rule's ``for``) -> firing
    -> resolved. A condition that holds again after being resolved is a new row, so the
    history of episodes stays. ``key`` names the thing (``order:PO-1@produced``)."""

    __tablename__ = "alert_instances"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str] = mapped_column(String(64))
    rule_kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16), default="warning")
    value: Mapped[float | None] = mapped_column(Float)
    summary: Mapped[str] = mapped_column(Text, default="")
    # JSON object of what the alert is about: order, owner, stage, department, operator,
    # exception, exception_owner, metric, scope (those that apply).
    labels: Mapped[str] = mapped_column(Text, default="{}")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    evaluated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    # Escalation steps already sent (0: none).
    escalated: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        Index("ix_alert_instances_rule_state", "rule", "state"),
        Index("ix_alert_instances_state_resolved", "state", "resolved_at"),
    )


class AlertDelivery(Base):
    """One message sent (or tried) to one channel: the delivery log."""

    __tablename__ = "alert_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # firing, resolved, escalation, test
    group_key: Mapped[str] = mapped_column(String(300), default="")
    alerts: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16))  # sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    http_status: Mapped[int | None] = mapped_column(Integer)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    recipients: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_alert_deliveries_channel_at", "channel", "at"),)


class AlertNotice(Base):
    """An alert instance was told to a channel (and the people it mentioned) by a delivery."""

    __tablename__ = "alert_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("alert_instances.id", ondelete="CASCADE"))
    delivery_id: Mapped[int] = mapped_column(ForeignKey("alert_deliveries.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # firing, repeat, resolved, escalation
    recipients: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_alert_notices_instance", "instance_id", "channel"),)


class AlertGroup(Base):
    """Timers of one notification group (rule, channel, grouped labels)."""

    __tablename__ = "alert_groups"

    group_key: Mapped[str] = mapped_column(String(300), primary_key=True)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AlertSilence(Base):
    """Alerts matching every matcher (JSON {label: value}, ``*`` wildcards) are not sent
    until ``ends_at``; who set it and why are kept."""

    __tablename__ = "alert_silences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    matchers: Mapped[str] = mapped_column(Text)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_by: Mapped[str] = mapped_column(String(64))
    comment: Mapped[str] = mapped_column(Text, default="")
