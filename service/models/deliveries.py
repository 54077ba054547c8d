"""The delivery ledger: one row per (subscriber, kind, key); sends group them for progress."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, UTCDateTime, state_check, state_type, utcnow


class SendKind(StrEnum):
    ISSUE = "issue"  # one issue's email, key = the issue id
    DIGEST = "digest"  # a digest period, key = 2026-11-24 (daily) or 2026-W48 (weekly)


class SendStatus(StrEnum):
    """running → paused (by an admin, or itself after too many errors) → running → finished."""

    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"


class DeliveryStatus(StrEnum):
    """queued → sending (claimed) → sent | failed; back to queued after a temporary failure
    (with retry_at) or when its claim's lease ran out."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class Send(Base):
    """One mailing (an issue email, or a digest run), for progress, pause and resume."""

    __tablename__ = "sends"
    __table_args__ = (
        UniqueConstraint("kind", "key"),
        state_check("kind", SendKind),
        state_check("status", SendStatus),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[SendKind] = mapped_column(state_type(SendKind))
    key: Mapped[str] = mapped_column(String(60))
    issue_id: Mapped[int | None] = mapped_column(ForeignKey("issues.id", ondelete="SET NULL"))
    status: Mapped[SendStatus] = mapped_column(state_type(SendStatus), default=SendStatus.RUNNING)
    error_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SendRate(Base):
    """A token bucket per SMTP server, shared by every worker (the embedded default)."""

    __tablename__ = "send_rate"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    tokens: Mapped[float] = mapped_column()
    updated: Mapped[float] = mapped_column()


class Delivery(Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("subscriber_id", "kind", "key"),
        Index("ix_deliveries_status_retry", "status", "retry_at"),
        # claims read one send's queued rows in id order: (send_id, status, id) keeps that a
        # range scan however many rows are already sent
        Index("ix_deliveries_send_status_id", "send_id", "status", "id"),
        state_check("kind", SendKind),
        state_check("status", DeliveryStatus),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    send_id: Mapped[int | None] = mapped_column(ForeignKey("sends.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    kind: Mapped[SendKind] = mapped_column(state_type(SendKind))
    key: Mapped[str] = mapped_column(String(60))
    status: Mapped[DeliveryStatus] = mapped_column(
        state_type(DeliveryStatus), default=DeliveryStatus.QUEUED
    )
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    message_id: Mapped[str] = mapped_column(String(255), default="")
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str] = mapped_column(String(100), default="")
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
