"""Commenters' own data: export or delete their comments by an emailed link.

A commenter is recognised by the keyed hash of their email (the avatar key), so the signed links
carry no readable address. The request is answered by a task, the same way for every address.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import Select, delete, select, update

from service import mail
from service.comments.avatars import avatar_key
from service.core import audit, queue, tokens
from service.core.addresses import email_key
from service.core.db import count as count_rows
from service.core.db import rowcount
from service.core.urls import absolute
from service.extensions import db
from service.models import (
    Comment,
    CommentKind,
    DataRequest,
    DataRequestStatus,
    Issue,
    ReplySubscription,
)
from service.models.base import utcnow

log = logging.getLogger(__name__)

PURPOSE = "commenter-data"
MAX_AGE = 2 * tokens.DAY
ACTIONS = ("export", "delete")
#: At most one data email per address in this time, whoever asks.
RESEND_AFTER = timedelta(hours=1)


def _comments_of(key: str) -> Select:
    return select(Comment).where(Comment.avatar_key == key, Comment.kind == CommentKind.COMMENT)


def request(email: str, action: str) -> int:
    """Record a reader's request for a data link and enqueue its answer; commit first.

    The same for every address (no lookup, no SMTP in the request), so neither the answer nor its
    timing tells whether an address has comments.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    row = DataRequest(
        email=email.strip()[:100],
        avatar_key=avatar_key(email),
        action=action,
        status=DataRequestStatus.PENDING,
        created_at=utcnow(),
    )
    db.session.add(row)
    db.session.flush()
    request_id = row.id
    db.session.commit()
    queue.enqueue("comments.send_data_link", request_id)  # a lost one is swept up
    return request_id


def _recently_sent(key: str, now: datetime) -> bool:
    return (
        db.session.scalar(
            select(DataRequest.id)
            .where(
                DataRequest.avatar_key == key,
                DataRequest.status.in_((DataRequestStatus.SENT, DataRequestStatus.SENDING)),
                DataRequest.sent_at > now - RESEND_AFTER,
            )
            .limit(1)
        )
        is not None
    )


def _close(row: DataRequest, status: DataRequestStatus) -> bool:
    row.status, row.email = status, ""
    db.session.commit()
    return False


def send_link(request_id: int, now: datetime | None = None) -> bool:
    """Email the signed link for one request if the address has comments and got none this hour.

    The message is built, the claim committed, and only then is SMTP spoken to; a failed send
    returns the request to pending for the sweep.
    """
    now = now or utcnow()
    row = db.session.get(DataRequest, request_id)
    if row is None or row.status != DataRequestStatus.PENDING:
        db.session.rollback()
        return False
    if _recently_sent(row.avatar_key, now):
        return _close(row, DataRequestStatus.SKIPPED)
    found = count(row.avatar_key)
    if not found:
        return _close(row, DataRequestStatus.NONE)
    token = tokens.make(PURPOSE, {"k": row.avatar_key, "a": row.action})
    email = row.email
    msg = mail.build(
        "commenter_data",
        email,
        {
            "action": row.action,
            "count": found,
            "link": absolute("commenter.data_confirm", token=token),
        },
    )
    claimed = rowcount(
        db.session.execute(
            update(DataRequest)
            .where(DataRequest.id == request_id, DataRequest.status == DataRequestStatus.PENDING)
            .values(status=DataRequestStatus.SENDING, sent_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    db.session.commit()
    if claimed != 1:
        return False
    try:
        mail.send(msg)
    except Exception:
        log.warning("could not send commenter data link %s; will retry", request_id, exc_info=True)
        _mark(request_id, status=DataRequestStatus.PENDING, sent_at=None)
        return False
    _mark(request_id, status=DataRequestStatus.SENT, email="")
    return True


def _mark(request_id: int, **values: object) -> None:
    db.session.execute(
        update(DataRequest)
        .where(DataRequest.id == request_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def unsent_requests(older_than_seconds: float = 60, now: datetime | None = None) -> list[int]:
    """Pending requests of the last day whose task never ran or failed (the sweep's to-do)."""
    now = now or utcnow()
    ids = db.session.scalars(
        select(DataRequest.id)
        .where(
            DataRequest.status == DataRequestStatus.PENDING,
            DataRequest.created_at < now - timedelta(seconds=older_than_seconds),
            DataRequest.created_at > now - timedelta(days=1),
        )
        .order_by(DataRequest.id)
    ).all()
    db.session.rollback()
    return list(ids)


def read_link(token: str) -> tuple[str, str]:
    """The (key, action) of a data link; raises tokens.TokenError."""
    payload = tokens.read(PURPOSE, token, MAX_AGE)
    if not isinstance(payload, dict) or payload.get("a") not in ACTIONS:
        raise tokens.TokenError("This link is not valid.")
    return payload["k"], payload["a"]


def count(key: str) -> int:
    """How many comments one commenter (by avatar key) has."""
    return count_rows(_comments_of(key))


def export(key: str) -> dict:
    """Everything stored about one commenter's comments, as a JSON-ready dict."""
    rows = db.session.execute(
        select(Comment, Issue.title, Issue.slug)
        .join(Issue, Issue.id == Comment.issue_id)
        .where(Comment.avatar_key == key, Comment.kind == CommentKind.COMMENT)
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
    removed = rowcount(
        db.session.execute(
            delete(Comment).where(Comment.avatar_key == key, Comment.kind == CommentKind.COMMENT)
        )
    )
    if emails:
        db.session.execute(
            delete(ReplySubscription).where(
                ReplySubscription.email.in_({email_key(e) for e in emails})
            )
        )
    audit.record("comments.erased_by_commenter", "commenter", None, "reader", count=removed)
    db.session.commit()
    return removed


def sweep() -> int:
    """Answer the data requests whose enqueue was lost (the periodic task)."""
    return sum(send_link(request_id) for request_id in unsent_requests())
