"""Replies readers sent by email to an issue or digest (matched by the signed Reply-To)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, UTCDateTime, state_check, state_type, utcnow


class ReplyStatus(StrEnum):
    """held (the reader has not chosen yet: publish or keep private?) → published (a pending
    comment) | private (a letter for the writer); published → withdrawn (by the reader);
    refused (a comment rule or a closed issue turned it away; kept for the writer to read)."""

    HELD = "held"
    PUBLISHED = "published"
    PRIVATE = "private"
    WITHDRAWN = "withdrawn"
    REFUSED = "refused"


class ReplyMail(StrEnum):
    """The one email a reply earns its reader: ask (publish or keep private?), received (it
    will appear after moderation; a link withdraws it) or refused (and why)."""

    ASK = "ask"
    RECEIVED = "received"
    REFUSED = "refused"


class EmailReply(Base):
    __tablename__ = "email_replies"
    __table_args__ = (
        Index("ix_email_replies_status_received", "status", "received_at"),
        Index("ix_email_replies_subscriber_received", "subscriber_id", "received_at"),
        Index("ix_email_replies_mail_due", "mail_due", "received_at"),
        state_check("status", ReplyStatus),
        state_check("mail", ReplyMail),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    #: The pending comment it became (none while held, private or refused).
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="SET NULL"), index=True
    )
    #: Message-ID (or a digest of the bytes): a message delivered twice is stored once.
    message_key: Mapped[str] = mapped_column(String(255), unique=True)
    subject: Mapped[str] = mapped_column(String(255), default="")
    body_md: Mapped[str] = mapped_column(Text, default="")
    attachments_dropped: Mapped[int] = mapped_column(default=0)
    status: Mapped[ReplyStatus] = mapped_column(state_type(ReplyStatus))
    #: Why it is private or refused, in words for the writer and the reader.
    reason: Mapped[str] = mapped_column(String(300), default="")
    #: The email owed to the reader about it, whether it is still to send, and when it went.
    mail: Mapped[ReplyMail | None] = mapped_column(state_type(ReplyMail))
    mail_due: Mapped[bool] = mapped_column(default=False)
    mail_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the writer first opened it in the Letters inbox.
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
