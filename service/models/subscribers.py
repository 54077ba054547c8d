"""Newsletter subscribers."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String, false, text
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, UTCDateTime, state_check, state_type, utcnow


class SubscriberStatus(StrEnum):
    """pending (awaiting confirmation) → active → unsubscribed | bounced | complained;
    subscribing again returns to pending."""

    PENDING = "pending"
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"


class DeliveryMode(StrEnum):
    """How a subscriber hears from us: every issue, a digest, or nothing (preferences kept)."""

    ISSUE = "issue"
    WEEKLY = "weekly"
    DAILY = "daily"
    NONE = "none"


class ReplyMode(StrEnum):
    """What happens to a subscriber's emailed replies: ask them first (the default: nothing is
    published until they say so), publish as comments (after moderation), or keep private."""

    ASK = "ask"
    PUBLISH = "publish"
    PRIVATE = "private"


class Subscriber(Base):
    __tablename__ = "subscribers"
    __table_args__ = (
        Index("ix_subscribers_status_delivery", "status", "delivery"),
        Index("ix_subscribers_status_created", "status", "created_at"),  # 0006 (+ trigram on PG)
        state_check("status", SubscriberStatus),
        state_check("delivery", DeliveryMode),
        state_check("reply_mode", ReplyMode),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[SubscriberStatus] = mapped_column(
        state_type(SubscriberStatus), default=SubscriberStatus.PENDING
    )
    delivery: Mapped[DeliveryMode] = mapped_column(
        state_type(DeliveryMode), default=DeliveryMode.ISSUE
    )
    reply_notifications: Mapped[bool] = mapped_column(default=True)
    source: Mapped[str] = mapped_column(String(40), default="form")
    signup_ip: Mapped[str] = mapped_column(String(45), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    confirm_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: A confirmation email is owed (sent by the task, or by the sweep if the enqueue was lost).
    confirm_due: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: The public name on comments they send by email ('' : their name; never their email).
    display_name: Mapped[str] = mapped_column(String(100), default="", server_default="")
    reply_mode: Mapped[ReplyMode] = mapped_column(
        state_type(ReplyMode), default=ReplyMode.ASK, server_default=text("'ask'")
    )
