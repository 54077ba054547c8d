"""Tell moderators about held comments: one batched email per moderator per few minutes.

Each comment in the email carries one signed link per action ('moderate:approve',
'moderate:spam', 'moderate:reject'), bound to that moderator and valid for a few days. The link
opens a confirmation page; only its POST acts (mail scanners open links).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError

from service import mail
from service.core import settings, tokens
from service.core.db import fetch, rowcount
from service.core.urls import absolute
from service.extensions import db
from service.models import Comment, CommentStatus, Issue, ModeratorNotice, User
from service.models.base import utcnow

log = logging.getLogger(__name__)

LINK_ACTIONS = ("approve", "spam", "reject")
MAX_PER_EMAIL = 50


def link_token(action: str, comment_id: int, user_id: int) -> str:
    """A signed one-click token for one comment, one action and one moderator."""
    return tokens.make(f"moderate:{action}", {"c": comment_id, "u": user_id})


def read_link(action: str, token: str) -> tuple[int, int]:
    """(comment id, user id) of a valid link token for `action`; raises tokens.TokenError."""
    if action not in LINK_ACTIONS:
        raise tokens.TokenError("This link is not valid.")
    max_age = int(settings.get("moderation.link_days")) * tokens.DAY
    payload = tokens.read(f"moderate:{action}", token, max_age=max_age)
    try:
        return int(payload["c"]), int(payload["u"])
    except (TypeError, KeyError, ValueError):
        raise tokens.TokenError("This link is not valid.") from None


@dataclass
class Held:
    comment: Comment
    issue_title: str
    links: dict[str, str]


def _notice(user_id: int) -> ModeratorNotice:
    notice = db.session.get(ModeratorNotice, user_id)
    if notice is None:
        try:
            with db.session.begin_nested():
                db.session.add(ModeratorNotice(user_id=user_id, last_comment_id=0))
        except IntegrityError:  # another worker created it
            pass
        notice = fetch(ModeratorNotice, user_id)
    return notice


def _slot(user_id: int, seen: datetime | None, new: datetime | None) -> bool:
    """Move this moderator's email slot from `seen` to `new` (False if another worker did)."""
    query = update(ModeratorNotice).where(ModeratorNotice.user_id == user_id)
    query = query.where(
        ModeratorNotice.last_sent_at.is_(None)
        if seen is None
        else ModeratorNotice.last_sent_at == seen
    )
    done = rowcount(
        db.session.execute(
            query.values(last_sent_at=new).execution_options(synchronize_session=False)
        )
    )
    db.session.commit()
    return done == 1


def _sent(user_id: int, last_id: int) -> None:
    """After SMTP accepted the email: these comments need no further email."""
    db.session.execute(
        update(ModeratorNotice)
        .where(ModeratorNotice.user_id == user_id, ModeratorNotice.last_comment_id < last_id)
        .values(last_comment_id=last_id)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def held_query() -> Select:
    return select(Comment).where(
        Comment.status == CommentStatus.PENDING, Comment.moderation_due.is_(False)
    )


def _batch(user: User, after_id: int) -> list[Held]:
    rows = db.session.execute(
        held_query()
        .add_columns(Issue.title)
        .join(Issue, Issue.id == Comment.issue_id)
        .where(Comment.id > after_id)
        .order_by(Comment.id.desc())
        .limit(MAX_PER_EMAIL)
    ).all()
    return [
        Held(
            c,
            title,
            {
                a: absolute("moderate_links.confirm", action=a, token=link_token(a, c.id, user.id))
                for a in LINK_ACTIONS
            },
        )
        for c, title in reversed(rows)
    ]


def notify_moderators(now: datetime | None = None) -> int:
    """Email each active moderator the comments held since their last email; return emails sent."""
    if not settings.get("moderation.notify"):
        return 0
    now = now or utcnow()
    interval = timedelta(minutes=float(settings.get("moderation.notify_interval_minutes")))
    users = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.id)).all()
    sent = 0
    for user in users:
        notice = _notice(user.id)
        if notice.last_sent_at is not None and now - notice.last_sent_at < interval:
            continue
        batch = _batch(user, notice.last_comment_id)
        if not batch:
            continue
        total = db.session.scalar(select(func.count()).select_from(held_query().subquery()))
        message = mail.build(
            "moderation_held",
            user.email,
            {
                "user": user,
                "held": batch,
                "total": total,
                "queue_url": absolute("moderate.queue", tab="pending"),
                "link_days": settings.get("moderation.link_days"),
            },
        )
        user_id, seen, last_id = user.id, notice.last_sent_at, batch[-1].comment.id
        if not _slot(user_id, seen, now):
            continue
        try:
            mail.send(message)  # after the commit: no transaction open across SMTP
        except Exception:  # free the slot: the next run (every minute) sends these again
            log.exception("could not email moderator %s; will retry", user_id)
            _slot(user_id, now, seen)
            continue
        _sent(user_id, last_id)
        sent += 1
    db.session.rollback()
    return sent
