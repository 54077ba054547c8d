"""Reply notifications that cannot become a spam relay.

Only for approved replies to an approved comment whose author asked for them and confirmed
(comments/reply_consent.py), never for one's own replies, at most a few per hour, and every
message carries List-Unsubscribe headers and a signed one-click stop link. Each notice is
claimed (a row) before SMTP is spoken to and marked sent after; the sweep retries the rest.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from service import mail
from service.comments.reply_consent import consent, stop_url, subscription_for
from service.core import settings
from service.core.addresses import email_key
from service.core.db import count, fetch, rowcount
from service.core.rendering import excerpt
from service.core.urls import absolute
from service.extensions import db
from service.mail.headers import one_click_headers
from service.models import (
    Comment,
    CommentKind,
    CommentStatus,
    Issue,
    NoticeStatus,
    ReplyConsent,
    ReplyNotice,
    ReplySubscription,
)
from service.models.base import utcnow

log = logging.getLogger(__name__)

#: A claimed notice not sent after this long is sent again by the sweep, at most this often.
RETRY_AFTER_SECONDS = 300
MAX_ATTEMPTS = 8


def _recipient(reply: Comment) -> Comment | None:
    """The parent comment whose author should hear of `reply`, if any."""
    if (
        reply.status != CommentStatus.APPROVED
        or reply.parent_id is None
        or reply.kind != CommentKind.COMMENT
    ):
        return None
    parent = db.session.get(Comment, reply.parent_id)
    if (
        parent is None
        or parent.status != CommentStatus.APPROVED
        or not parent.notify_replies
        or not parent.author_email
    ):
        return None
    if email_key(parent.author_email) == email_key(reply.author_email):
        return None  # never for one's own replies
    if parent.author_token and parent.author_token == reply.author_token:
        return None
    return parent


def _confirmed_row(email: str) -> ReplySubscription | None:
    if consent(email) != ReplyConsent.CONFIRMED:
        return None
    row = subscription_for(email)
    if row is None:  # confirmed as a newsletter subscriber: a row gives the stop link an id
        row = ReplySubscription(
            email=email_key(email), status=ReplyConsent.CONFIRMED, confirmed_at=utcnow()
        )
        db.session.add(row)
        db.session.flush()
    return row


def _addressee(comment_id: int) -> tuple[Comment, Comment, ReplySubscription] | None:
    """(the reply, the comment it answers, the consent row of that comment's author), when
    that author should hear of it."""
    reply = db.session.get(Comment, comment_id)
    parent = _recipient(reply) if reply is not None else None
    if reply is None or parent is None:
        return None
    row = _confirmed_row(parent.author_email)
    return (reply, parent, row) if row is not None else None


def _under_hourly_cap(email: str, now: datetime) -> bool:
    sent = count(
        select(ReplyNotice.id).where(
            ReplyNotice.email == email, ReplyNotice.sent_at > now - timedelta(hours=1)
        )
    )
    return sent < int(settings.get("comments.reply_notices_per_hour"))


def notify(comment_id: int, now: datetime | None = None) -> int:
    """Tell the parent's author about an approved reply; return how many messages were sent.

    The message is built, the claim (a pending ReplyNotice) committed, and only then is SMTP
    spoken to; the notice is marked sent after the server accepted it, and retry_unsent sends
    it again if it never was.
    """
    now = now or utcnow()
    found = _addressee(comment_id)
    if found is None or not _under_hourly_cap(found[2].email, now):
        db.session.rollback()
        return 0
    reply, _, row = found
    msg = _message(*found)
    notice = ReplyNotice(
        comment_id=reply.id, email=row.email, sent_at=now, status=NoticeStatus.PENDING, attempts=1
    )
    db.session.add(notice)
    try:
        db.session.flush()
        notice_id = notice.id
        db.session.commit()  # the claim: a second run finds the notice and sends nothing
    except IntegrityError:
        db.session.rollback()
        return 0
    return _deliver(notice_id, msg)


def _deliver(notice_id: int, msg: EmailMessage) -> int:
    """Send one claimed notice (no transaction open); mark it sent only when SMTP accepted it."""
    try:
        mail.send(msg)
    except Exception:  # the notice stays pending: retry_unsent tries again later
        log.warning("reply notification %s not sent; will retry", notice_id, exc_info=True)
        return 0
    db.session.execute(
        update(ReplyNotice)
        .where(ReplyNotice.id == notice_id)
        .values(status=NoticeStatus.SENT, sent_at=utcnow())
    )
    db.session.commit()
    return 1


def retry_unsent(
    older_than_seconds: float = RETRY_AFTER_SECONDS, now: datetime | None = None
) -> int:
    """Send again the notices claimed but never sent (SMTP failed or a worker died)."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=older_than_seconds)
    ids = db.session.scalars(
        select(ReplyNotice.id)
        .where(ReplyNotice.status == NoticeStatus.PENDING, ReplyNotice.sent_at < cutoff)
        .order_by(ReplyNotice.id)
    ).all()
    db.session.rollback()
    return sum(_retry(notice_id, cutoff, now) for notice_id in ids)


def _retry(notice_id: int, cutoff: datetime, now: datetime) -> int:
    notice = db.session.get(ReplyNotice, notice_id)
    if notice is None or notice.status != NoticeStatus.PENDING or notice.sent_at >= cutoff:
        db.session.rollback()
        return 0
    found = _addressee(notice.comment_id)
    if found is None or found[2].email != notice.email or notice.attempts >= MAX_ATTEMPTS:
        notice.status = (
            NoticeStatus.DROPPED if notice.attempts < MAX_ATTEMPTS else NoticeStatus.FAILED
        )
        db.session.commit()
        return 0
    msg = _message(*found)
    claimed = rowcount(
        db.session.execute(  # another sweep may have taken it meanwhile
            update(ReplyNotice)
            .where(
                ReplyNotice.id == notice_id,
                ReplyNotice.status == NoticeStatus.PENDING,
                ReplyNotice.sent_at == notice.sent_at,
            )
            .values(sent_at=now, attempts=ReplyNotice.attempts + 1)
            .execution_options(synchronize_session=False)
        )
    )
    db.session.commit()
    return _deliver(notice_id, msg) if claimed == 1 else 0


def _message(reply: Comment, parent: Comment, row: ReplySubscription) -> EmailMessage:
    issue = fetch(Issue, reply.issue_id)
    stop = stop_url(row.id)
    context = {
        "replier": "".join(ch for ch in reply.author_name if ch.isprintable()),
        "reply_text": excerpt(reply.body_html, 120),
        "your_text": excerpt(parent.body_html, 40),
        "issue_title": issue.title,
        "reply_url": absolute("public.issue", slug=issue.slug) + f"#comment-{reply.id}",
        "stop_url": stop,
    }
    return mail.build("reply_notification", row.email, context, one_click_headers(stop))
