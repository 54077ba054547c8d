"""Commenters' data: export or delete by emailed link, and the retention rules.

A commenter is recognised by the keyed hash of their email (the avatar key), so the signed links
carry no readable address. IPs are kept only for moderation and erased after a set number of
days; spam and trash are purged after another.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update

from . import audit, mail, settings, tokens
from .avatars import avatar_key
from .extensions import db
from .models import Comment, Issue, ReplySubscription
from .models.base import utcnow
from .urls import absolute

PURPOSE = "commenter-data"
MAX_AGE = 2 * tokens.DAY
ACTIONS = ("export", "delete")


def _comments_of(key: str):
    return select(Comment).where(Comment.avatar_key == key, Comment.kind == "comment")


def request_link(email: str, action: str) -> bool:
    """Email a signed link for `action` if that address has comments; no transaction is held."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    key = avatar_key(email)
    found = db.session.scalar(select(func.count()).select_from(_comments_of(key).subquery()))
    db.session.rollback()
    if not found:
        return False
    token = tokens.make(PURPOSE, {"k": key, "a": action})
    msg = mail.build(
        "commenter_data",
        email.strip(),
        {
            "action": action,
            "count": found,
            "link": absolute("comments.data_confirm", token=token),
        },
    )
    mail.send(msg)
    return True


def read_link(token: str) -> tuple[str, str]:
    """The (key, action) of a data link; raises tokens.TokenError."""
    payload = tokens.read(PURPOSE, token, MAX_AGE)
    if not isinstance(payload, dict) or payload.get("a") not in ACTIONS:
        raise tokens.TokenError("This link is not valid.")
    return payload["k"], payload["a"]


def count(key: str) -> int:
    return db.session.scalar(select(func.count()).select_from(_comments_of(key).subquery()))


def export(key: str) -> dict:
    """Everything stored about one commenter's comments, as a JSON-ready dict."""
    rows = db.session.execute(
        select(Comment, Issue.title, Issue.slug)
        .join(Issue, Issue.id == Comment.issue_id)
        .where(Comment.avatar_key == key, Comment.kind == "comment")
        .order_by(Comment.created_at)
    ).all()
    items = [
        {
            "issue": title,
            "url": absolute("public.issue", slug=slug) + f"#comment-{c.id}",
            "created_at": c.created_at.isoformat(),
            "status": c.status,
            "name": c.author_name,
            "email": c.author_email,
            "website": c.author_url,
            "ip": c.author_ip,
            "user_agent": c.user_agent,
            "notify_replies": c.notify_replies,
            "comment_markdown": c.body_md,
            "comment_html": c.body_html,
        }
        for c, title, slug in rows
    ]
    return {"comments": items, "exported_at": utcnow().isoformat()}


def delete_all(key: str) -> int:
    """Delete every comment of one commenter (replies to them stay, unthreaded); commit."""
    emails = set(
        db.session.scalars(select(Comment.author_email).where(Comment.avatar_key == key).distinct())
    )
    removed = db.session.execute(
        delete(Comment).where(Comment.avatar_key == key, Comment.kind == "comment")
    ).rowcount
    if emails:
        db.session.execute(
            delete(ReplySubscription).where(
                ReplySubscription.email.in_({e.strip().lower() for e in emails})
            )
        )
    audit.record("comments.erased_by_commenter", "commenter", None, "reader", count=removed)
    db.session.commit()
    return removed


def purge_old(now: datetime | None = None) -> int:
    """Delete spam and trash older than comments.purge_after_days; commit."""
    days = int(settings.get("comments.purge_after_days"))
    cutoff = (now or utcnow()) - timedelta(days=days)
    moved_at = func.coalesce(Comment.decided_at, Comment.created_at)
    removed = db.session.execute(
        delete(Comment).where(Comment.status.in_(("spam", "trash")), moved_at < cutoff)
    ).rowcount
    if removed:
        audit.record("comments.purged", "comment", None, "system", count=removed, days=days)
    db.session.commit()
    return removed


def erase_old_ips(now: datetime | None = None) -> int:
    """Erase IPs and user agents of comments older than comments.ip_retention_days; commit."""
    cutoff = (now or utcnow()) - timedelta(days=int(settings.get("comments.ip_retention_days")))
    erased = db.session.execute(
        update(Comment)
        .where(Comment.created_at < cutoff, or_(Comment.author_ip != "", Comment.user_agent != ""))
        .values(author_ip="", user_agent="")
    ).rowcount
    db.session.commit()
    return erased
