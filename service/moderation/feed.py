"""The moderation queue is the comments table itself.

A post commits its row with moderation_due set and writes nothing else: no broker message, so a
post is one short transaction and an enqueue can never be lost. Every worker runs a feed
(worker/feed.py) that polls the due rows (a partial index holds only those), claims a batch by
stamping moderation_claimed_at, and enqueues one `moderation.moderate_comment` task per claimed
comment. A claim is a lease: one older than `lease_seconds` (its task was lost, or its worker
died) is claimed again. The task itself is idempotent, so a second run changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from service.core import queue
from service.core.db import is_postgresql
from service.extensions import db
from service.models import Comment
from service.models.base import utcnow

LEASE_SECONDS = 60
BATCH = 100


class BrokerUnavailable(RuntimeError):
    """The broker refused a task; the claimed comments were given back."""


def _claimable(stale: datetime):
    return (
        Comment.moderation_due.is_(True),
        or_(Comment.moderation_claimed_at.is_(None), Comment.moderation_claimed_at < stale),
    )


def claim(
    limit: int = BATCH, lease_seconds: float = LEASE_SECONDS, now: datetime | None = None
) -> list[int]:
    """Take up to `limit` due comments nobody holds (oldest first); commit; return their ids.

    A read first: an idle poll takes no write lock (SQLite has one writer for everyone). The
    claim is one conditional UPDATE, with SKIP LOCKED on PostgreSQL so that feeds on several
    hosts take disjoint batches without waiting on each other.
    """
    now = now or utcnow()
    stale = now - timedelta(seconds=lease_seconds)
    due = select(Comment.id).where(*_claimable(stale)).order_by(Comment.id).limit(limit)
    if db.session.scalar(due.limit(1)) is None:
        db.session.rollback()
        return []
    if is_postgresql():
        due = due.with_for_update(skip_locked=True)
    ids = db.session.scalars(
        update(Comment)
        .where(Comment.id.in_(due.scalar_subquery()), *_claimable(stale))
        .values(moderation_claimed_at=now)
        .returning(Comment.id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return sorted(ids)


def release(ids: list[int]) -> None:
    """Give claimed comments back at once (their tasks could not be enqueued)."""
    if ids:
        db.session.execute(
            update(Comment)
            .where(Comment.id.in_(ids), Comment.moderation_due.is_(True))
            .values(moderation_claimed_at=None)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()


def dispatch(limit: int = BATCH, lease_seconds: float = LEASE_SECONDS) -> int:
    """Claim due comments and enqueue a moderation task for each; return how many went out.

    When the broker is unreachable, the comments not yet enqueued are released (nothing waits
    for the lease to run out) and BrokerUnavailable tells the feed to back off.
    """
    ids = claim(limit, lease_seconds)
    for done, comment_id in enumerate(ids):
        if not queue.enqueue("moderation.moderate_comment", comment_id):  # logged by enqueue
            release(ids[done:])
            raise BrokerUnavailable(f"{len(ids) - done} comment(s) released")
    return len(ids)
