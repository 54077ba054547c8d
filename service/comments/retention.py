"""Retention: spam and trash are purged after a set number of days, and commenters' IPs and
user agents (kept only for moderation) are erased after another."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, update

from service.core import audit, settings
from service.core.db import rowcount
from service.extensions import db
from service.models import Comment, CommentStatus, DataRequest
from service.models.base import utcnow


def purge_old(now: datetime | None = None) -> int:
    """Delete spam and trash older than comments.purge_after_days; commit."""
    days = int(settings.get("comments.purge_after_days"))
    cutoff = (now or utcnow()) - timedelta(days=days)
    moved_at = func.coalesce(Comment.decided_at, Comment.created_at)
    removed = rowcount(
        db.session.execute(
            delete(Comment).where(
                Comment.status.in_((CommentStatus.SPAM, CommentStatus.TRASH)), moved_at < cutoff
            )
        )
    )
    db.session.execute(
        delete(DataRequest).where(  # handled requests: kept a day for the limit
            DataRequest.created_at < (now or utcnow()) - timedelta(days=1)
        )
    )
    if removed:
        audit.record("comments.purged", "comment", None, "system", count=removed, days=days)
    db.session.commit()
    return removed


def erase_old_ips(now: datetime | None = None) -> int:
    """Erase IPs and user agents of comments older than comments.ip_retention_days; commit."""
    cutoff = (now or utcnow()) - timedelta(days=int(settings.get("comments.ip_retention_days")))
    erased = rowcount(
        db.session.execute(
            update(Comment)
            .where(
                Comment.created_at < cutoff, or_(Comment.author_ip != "", Comment.user_agent != "")
            )
            .values(author_ip="", user_agent="")
        )
    )
    db.session.commit()
    return erased
