"""Issues (the essays), their authors and categories."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.models.base import Base, UTCDateTime, state_check, state_type, utcnow


class IssueStatus(StrEnum):
    """draft → scheduled → published (and back to draft, which never re-sends). `publishing` is
    the scheduler's claim, held only inside the transaction that publishes."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    PUBLISHING = "publishing"
    PUBLISHED = "published"


class Author(Base):
    __tablename__ = "authors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    bio: Mapped[str] = mapped_column(String(500), default="")


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)


class Issue(Base):
    __tablename__ = "issues"
    __table_args__ = (
        Index("ix_issues_status_published_at", "status", "published_at"),
        state_check("status", IssueStatus),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int | None] = mapped_column(unique=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("authors.id"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    body_md: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    excerpt: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[IssueStatus] = mapped_column(state_type(IssueStatus), default=IssueStatus.DRAFT)
    publish_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    comments_open: Mapped[bool] = mapped_column(default=True)
    #: Whether publishing (now or at the scheduled time) also emails "every issue" subscribers.
    email_subscribers: Mapped[bool] = mapped_column(default=True, server_default=true())
    source_id: Mapped[str | None] = mapped_column(String(500), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    #: Bumped by database triggers on every visible comment change (migration 0006): the
    #: rendered-thread cache (service/page_cache.py) keys on it.
    comments_version: Mapped[int] = mapped_column(default=0, server_default="0")

    author: Mapped[Author | None] = relationship(lazy="joined")
    category: Mapped[Category | None] = relationship(lazy="joined")
