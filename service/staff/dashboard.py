"""Figures for the admin dashboard: weekly subscriber and comment counts, worker health."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, func, or_, select

from service.extensions import db
from service.models import Comment, CommentKind, CommentStatus, Subscriber, SubscriberStatus
from service.models.base import utcnow
from service.staff import maintenance


def week_starts(weeks: int, now: datetime | None = None) -> list[datetime]:
    """The Monday 00:00 UTC starting each of the last `weeks` weeks, oldest first."""
    now = now or utcnow()
    monday = (now - timedelta(days=now.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    return [monday - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]


def _count(*where) -> int:
    return db.session.scalar(select(func.count()).where(*where)) or 0


def subscriber_weeks(weeks: int = 12, now: datetime | None = None) -> dict[str, list[int]]:
    """Per week: subscribers active at its end, new confirmations, and unsubscribes."""
    series: dict[str, list[int]] = {"active": [], "new": [], "unsubscribed": []}
    for start in week_starts(weeks, now):
        end = start + timedelta(weeks=1)
        series["new"].append(
            _count(Subscriber.confirmed_at >= start, Subscriber.confirmed_at < end)
        )
        series["unsubscribed"].append(
            _count(Subscriber.unsubscribed_at >= start, Subscriber.unsubscribed_at < end)
        )
        series["active"].append(
            _count(
                Subscriber.confirmed_at < end,
                or_(
                    Subscriber.status == SubscriberStatus.ACTIVE,
                    and_(
                        Subscriber.unsubscribed_at.is_not(None), Subscriber.unsubscribed_at >= end
                    ),
                ),
            )
        )
    return series


def comment_weeks(weeks: int = 12, now: datetime | None = None) -> dict[str, list[int]]:
    """Per week: comments received, and how many of them are approved."""
    series: dict[str, list[int]] = {"received": [], "approved": []}
    for start in week_starts(weeks, now):
        end = start + timedelta(weeks=1)
        window = (
            Comment.created_at >= start,
            Comment.created_at < end,
            Comment.kind == CommentKind.COMMENT,
        )
        series["received"].append(_count(*window))
        series["approved"].append(_count(*window, Comment.status == CommentStatus.APPROVED))
    return series


def queue_depth() -> int | None:
    """Messages waiting in the task queue, or None when the broker cannot be asked."""
    celery_app = current_app.extensions["celery"]
    try:
        with celery_app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1)
            ok = conn.default_channel.queue_declare(
                celery_app.conf.task_default_queue, passive=True
            )
            return ok.message_count
    except Exception:  # noqa: BLE001  (broker down or queue not declared yet: say "unknown")
        return None


def worker_health() -> dict:
    beat = maintenance.last_heartbeat()
    return {
        "last_seen": datetime.fromisoformat(beat["at"]) if beat else None,
        "queue_depth": queue_depth(),
    }
