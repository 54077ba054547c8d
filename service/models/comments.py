"""Comments and pingbacks on issues."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, UTCDateTime, utcnow

STATUSES = ("pending", "approved", "spam", "trash")
KINDS = ("comment", "pingback")


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (
        Index("ix_comments_issue_status_created", "issue_id", "status", "created_at"),
        Index("ix_comments_status_created_id", "status", "created_at", "id"),  # 0006
        # the moderation feed's queue: only the due rows (0009)
        Index(
            "ix_comments_moderation_due",
            "id",
            postgresql_where=text("moderation_due"),
            sqlite_where=text("moderation_due"),
        ),
        Index("ix_comments_ip_created", "author_ip", "created_at"),
        # the duplicate check and lookups by commenter (0009)
        Index("ix_comments_author_email_issue", "author_email", "issue_id"),
        Index("ix_comments_author_name_issue", "author_name", "issue_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20), default="comment")
    author_name: Mapped[str] = mapped_column(String(245))
    author_email: Mapped[str] = mapped_column(String(100), default="")
    author_url: Mapped[str] = mapped_column(String(200), default="")
    author_ip: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(255), default="")
    avatar_key: Mapped[str] = mapped_column(String(64), default="")
    #: A random id kept in the commenter's signed cookie: "the same browser as before".
    author_token: Mapped[str] = mapped_column(String(64), default="", index=True)
    notify_replies: Mapped[bool] = mapped_column(default=False)
    body_md: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="pending")
    previous_status: Mapped[str | None] = mapped_column(String(20))
    is_author_reply: Mapped[bool] = mapped_column(default=False)
    moderation_due: Mapped[bool] = mapped_column(default=False)
    #: When a worker's moderation feed took the due row (a lease; see service/moderation_feed.py).
    moderation_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision: Mapped[str] = mapped_column(String(20), default="")
    decision_reasons: Mapped[str] = mapped_column(Text, default="")
    spam_score: Mapped[float | None] = mapped_column()
    source_id: Mapped[str | None] = mapped_column(String(500), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReplySubscription(Base):
    """One address's consent to reply notifications: pending → confirmed → stopped."""

    __tablename__ = "reply_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(100), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirm_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReplyNotice(Base):
    """A reply notification sent (or claimed) for one reply and one recipient."""

    __tablename__ = "reply_notices"
    __table_args__ = (
        UniqueConstraint("comment_id", "email"),
        Index("ix_reply_notices_email_sent", "email", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(100))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # claimed, then sent
    #: pending (claimed, not yet sent: the sweep retries it), sent, failed or dropped
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)


class DataRequest(Base):
    """A commenter's request for their data link, sent by a task (at most one an hour)."""

    __tablename__ = "commenter_data_requests"
    __table_args__ = (Index("ix_commenter_data_requests_key_sent", "avatar_key", "sent_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(100))  # blanked once handled
    avatar_key: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default="pending")  # sent, skipped, none
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
