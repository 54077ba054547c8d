"""Comments and pingbacks on issues."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, UTCDateTime, state_check, state_type, utcnow


class CommentStatus(StrEnum):
    """pending → approved | spam | trash; spam and trash remember where they came from."""

    PENDING = "pending"
    APPROVED = "approved"
    SPAM = "spam"
    TRASH = "trash"


class CommentKind(StrEnum):
    COMMENT = "comment"
    PINGBACK = "pingback"  # pingbacks and trackbacks: another site that linked here


class ReplyConsent(StrEnum):
    """An address's consent to reply notifications: pending → confirmed → stopped."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    STOPPED = "stopped"


class NoticeStatus(StrEnum):
    """A reply notification: pending (claimed, not yet sent) → sent | failed | dropped."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    DROPPED = "dropped"


class DataRequestStatus(StrEnum):
    """A commenter's data request: pending → sending → sent, or closed as skipped (one was
    sent within the hour) or none (no comments from that address)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    SKIPPED = "skipped"
    NONE = "none"


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
        state_check("status", CommentStatus),
        state_check("previous_status", CommentStatus),
        state_check("kind", CommentKind),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[CommentKind] = mapped_column(state_type(CommentKind), default=CommentKind.COMMENT)
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
    status: Mapped[CommentStatus] = mapped_column(
        state_type(CommentStatus), default=CommentStatus.PENDING
    )
    previous_status: Mapped[CommentStatus | None] = mapped_column(state_type(CommentStatus))
    is_author_reply: Mapped[bool] = mapped_column(default=False)
    moderation_due: Mapped[bool] = mapped_column(default=False)
    #: When a worker's moderation feed took the due row (a lease; see moderation/feed.py).
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
    __table_args__ = (state_check("status", ReplyConsent),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(100), unique=True)
    status: Mapped[ReplyConsent] = mapped_column(
        state_type(ReplyConsent), default=ReplyConsent.PENDING
    )
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
        state_check("status", NoticeStatus),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(100))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # claimed, then sent
    #: pending (claimed, not yet sent: the sweep retries it), sent, failed or dropped
    status: Mapped[NoticeStatus] = mapped_column(
        state_type(NoticeStatus), default=NoticeStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)


class DataRequest(Base):
    """A commenter's request for their data link, sent by a task (at most one an hour)."""

    __tablename__ = "commenter_data_requests"
    __table_args__ = (
        Index("ix_commenter_data_requests_key_sent", "avatar_key", "sent_at"),
        state_check("status", DataRequestStatus),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(100))  # blanked once handled
    avatar_key: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(10))
    status: Mapped[DataRequestStatus] = mapped_column(
        state_type(DataRequestStatus), default=DataRequestStatus.PENDING
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
