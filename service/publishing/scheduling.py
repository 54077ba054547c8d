"""Publishing: now, at a scheduled time (safe with many beat processes), or back to draft."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from service.core import audit
from service.core.db import rowcount
from service.extensions import db
from service.models import Issue, IssueStatus
from service.models.base import utcnow
from service.publishing.signals import issue_published, issue_publishing
from service.publishing.writing import PublishingError, existing


def _next_number() -> int:
    return (db.session.scalar(select(func.max(Issue.number))) or 0) + 1


def _mark_published(issue: Issue, when: datetime, actor: str, email_subscribers: bool) -> None:
    if issue.number is None:
        issue.number = _next_number()
    issue.status = IssueStatus.PUBLISHED
    issue.published_at = issue.published_at or when
    issue.publish_at = None
    audit.record(
        "issue.published",
        "issue",
        issue.id,
        actor,
        number=issue.number,
        email_subscribers=email_subscribers,
    )
    issue_publishing.send(issue, email_subscribers=email_subscribers)


def publish(
    issue_id: int,
    actor: str = "system",
    when: datetime | None = None,
    email_subscribers: bool | None = None,
) -> Issue:
    """Publish an issue now: number it, make it public, plan its deliveries; commit.

    With email_subscribers=False the issue goes on the site and in the feed only.
    """
    for attempt in range(3):
        issue = existing(issue_id)
        if issue.status == IssueStatus.PUBLISHED:
            return issue
        if email_subscribers is not None:
            issue.email_subscribers = email_subscribers
        _mark_published(issue, when or utcnow(), actor, issue.email_subscribers)
        try:
            db.session.commit()
        except IntegrityError:  # another process took the same number at the same moment
            db.session.rollback()
            if attempt == 2:
                raise
            continue
        issue_published.send(issue)
        return issue
    raise AssertionError("unreachable")


def schedule(
    issue_id: int, when: datetime, actor: str = "system", email_subscribers: bool = True
) -> Issue:
    """Schedule a draft for publication at `when` (an aware datetime); commit."""
    issue = existing(issue_id)
    if issue.status == IssueStatus.PUBLISHED:
        raise PublishingError("That issue is already published.")
    issue.status, issue.publish_at = IssueStatus.SCHEDULED, when
    issue.published_at = None  # it will carry the scheduled time as its date
    issue.email_subscribers = email_subscribers
    audit.record("issue.scheduled", "issue", issue.id, actor, publish_at=when.isoformat())
    db.session.commit()
    return issue


def unpublish(issue_id: int, actor: str = "system") -> Issue:
    """Take an issue back to draft; nothing already sent is sent again; commit."""
    issue = existing(issue_id)
    issue.status, issue.publish_at = IssueStatus.DRAFT, None
    audit.record("issue.unpublished", "issue", issue.id, actor)
    db.session.commit()
    return issue


def publish_due(now: datetime | None = None) -> list[int]:
    """Publish every scheduled issue whose time has come; safe with many beat processes.

    Each issue is claimed by a conditional UPDATE (status scheduled → publishing) in the same
    transaction that publishes it: a second process's UPDATE matches no row (PostgreSQL
    re-checks the WHERE after the first commits; SQLite serialises writers), so each issue
    is published at most once.
    """
    now = now or utcnow()
    due = db.session.scalars(
        select(Issue.id).where(Issue.status == IssueStatus.SCHEDULED, Issue.publish_at <= now)
    ).all()
    db.session.rollback()
    published = []
    for issue_id in due:
        claimed = rowcount(
            db.session.execute(
                update(Issue)
                .where(Issue.id == issue_id, Issue.status == IssueStatus.SCHEDULED)
                .values(status=IssueStatus.PUBLISHING)
            )
        )
        if not claimed:
            db.session.rollback()
            continue
        issue = db.session.get(Issue, issue_id, populate_existing=True)
        if issue is None:  # deleted since it was claimed
            db.session.rollback()
            continue
        try:
            _mark_published(issue, issue.publish_at or now, "scheduler", issue.email_subscribers)
            db.session.commit()
        except IntegrityError:  # a number taken concurrently: the next tick tries again
            db.session.rollback()
            continue
        issue_published.send(issue)
        published.append(issue_id)
    return published
