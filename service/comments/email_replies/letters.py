"""The writer's Letters inbox: replies that stay private, wait for their reader's choice, or
were refused — read by admins only (they were written to the writer, not to moderators)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from service.core import audit
from service.core.db import rowcount
from service.core.rendering import comment_markdown_to_html
from service.core.urls import absolute
from service.extensions import db
from service.models import EmailReply, Issue, ReplyStatus, Subscriber
from service.models.base import utcnow

#: The inbox's tabs: key → (label, the statuses it lists).
TABS: dict[str, tuple[str, tuple[ReplyStatus, ...]]] = {
    "private": ("Private letters", (ReplyStatus.PRIVATE,)),
    "held": ("Awaiting the reader", (ReplyStatus.HELD,)),
    "refused": ("Refused", (ReplyStatus.REFUSED,)),
    "published": ("Published as comments", (ReplyStatus.PUBLISHED, ReplyStatus.WITHDRAWN)),
}
PAGE = 50


@dataclass(frozen=True)
class Letter:
    id: int
    received_at: datetime
    status: ReplyStatus
    reason: str
    name: str
    email: str  # admins see who wrote; this view never reaches a public page
    issue_title: str
    issue_url: str
    body_html: str
    attachments_dropped: int
    comment_id: int | None
    unread: bool


def counts() -> dict[str, int]:
    """Replies per tab, and the unread private letters under "unread"."""
    grouped = db.session.execute(
        select(EmailReply.status, func.count()).group_by(EmailReply.status)
    )
    rows = {status: number for status, number in grouped}
    found = {key: sum(rows.get(s, 0) for s in statuses) for key, (_, statuses) in TABS.items()}
    found["unread"] = unread()
    return found


def unread() -> int:
    return (
        db.session.scalar(
            select(func.count(EmailReply.id)).where(
                EmailReply.status == ReplyStatus.PRIVATE, EmailReply.read_at.is_(None)
            )
        )
        or 0
    )


def page(tab: str, before: int | None = None) -> tuple[list[Letter], int | None]:
    """One page of a tab, newest first (keyset on id), and the cursor of the next page."""
    statuses = TABS[tab][1]
    query = (
        select(EmailReply, Subscriber.name, Subscriber.email, Issue.title, Issue.slug)
        .join(Subscriber, Subscriber.id == EmailReply.subscriber_id)
        .join(Issue, Issue.id == EmailReply.issue_id)
        .where(EmailReply.status.in_(statuses))
        .order_by(EmailReply.id.desc())
        .limit(PAGE + 1)
    )
    if before is not None:
        query = query.where(EmailReply.id < before)
    rows = db.session.execute(query).all()
    letters = [
        Letter(
            id=reply.id,
            received_at=reply.received_at,
            status=reply.status,
            reason=reply.reason,
            name=name,
            email=email,
            issue_title=title,
            issue_url=absolute("public.issue", slug=slug),
            body_html=comment_markdown_to_html(reply.body_md),
            attachments_dropped=reply.attachments_dropped,
            comment_id=reply.comment_id,
            unread=reply.read_at is None,
        )
        for reply, name, email, title, slug in rows[:PAGE]
    ]
    return letters, (letters[-1].id if len(rows) > PAGE else None)


def mark_read(reply_id: int, actor: str, now: datetime | None = None) -> bool:
    """Mark one letter read; commit. True when it was unread."""
    changed = rowcount(
        db.session.execute(
            update(EmailReply)
            .where(EmailReply.id == reply_id, EmailReply.read_at.is_(None))
            .values(read_at=now or utcnow())
            .execution_options(synchronize_session=False)
        )
    )
    if changed:
        audit.record("reply.read", "email_reply", reply_id, actor)
    db.session.commit()
    return bool(changed)
