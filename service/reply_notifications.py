"""Reply notifications that cannot become a spam relay.

An address gets them only after confirming once by emailed link (or as an active subscriber),
only for approved replies to its own comment, never for its own replies, at most a few per hour,
and every message carries List-Unsubscribe headers and a signed one-click stop link.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from . import audit, mail, settings, tokens
from .extensions import db
from .models import Comment, Issue, ReplyNotice, ReplySubscription, Subscriber
from .models.base import utcnow
from .rendering import excerpt
from .urls import absolute

log = logging.getLogger(__name__)

CONFIRM_PURPOSE = "reply-notify"
STOP_PURPOSE = "reply-stop"
CONFIRM_MAX_AGE = 7 * tokens.DAY
STOP_MAX_AGE = 365 * tokens.DAY
#: At most one confirmation email per address in this time, whoever asks for it.
CONFIRM_RESEND_AFTER = timedelta(hours=24)
#: A claimed notice not sent after this long is sent again by the sweep, at most this often.
RETRY_AFTER_SECONDS = 300
MAX_ATTEMPTS = 8


def _key(email: str) -> str:
    return email.strip().lower()


def _row(email: str) -> ReplySubscription | None:
    return db.session.scalar(
        select(ReplySubscription).where(ReplySubscription.email == _key(email))
    )


def _subscriber(email: str) -> Subscriber | None:
    return db.session.scalar(
        select(Subscriber).where(func.lower(Subscriber.email) == _key(email)).limit(1)
    )


def _subscriber_says_stop(sub: Subscriber | None, row: ReplySubscription | None) -> bool:
    """Preferences off, or the subscription ended (unless replies were confirmed since)."""
    if sub is None or sub.status in ("pending", "active"):
        return sub is not None and not sub.reply_notifications
    if not sub.reply_notifications:
        return True
    confirmed_since = (row is not None and row.status == "confirmed" and row.confirmed_at
                       and (sub.unsubscribed_at is None or row.confirmed_at > sub.unsubscribed_at))
    return not confirmed_since


def consent(email: str) -> str:
    """The address's consent: "confirmed", "pending", "stopped" or "none".

    Read afresh each time: the newsletter preferences and unsubscribing take effect at once.
    """
    row, sub = _row(email), _subscriber(email)
    if _subscriber_says_stop(sub, row):
        return "stopped"
    if row is not None and row.status in ("confirmed", "stopped"):
        return row.status
    if sub is not None and sub.status == "active":
        return "confirmed"
    return row.status if row is not None else "none"


def sync_subscriber(sub: Subscriber, now: datetime | None = None) -> None:
    """Make the address's reply row follow a subscriber's change (in the caller's transaction)."""
    row = _row(sub.email)
    if row is None or (sub.status == "pending" and sub.reply_notifications):
        return  # an unconfirmed subscription neither gives nor takes away consent
    wanted = sub.status == "active" and sub.reply_notifications
    if wanted and row.status == "stopped":
        row.status, row.confirmed_at, row.stopped_at = "confirmed", now or utcnow(), None
    elif not wanted and row.status != "stopped":
        row.status, row.stopped_at = "stopped", now or utcnow()


def _follow_row(row: ReplySubscription) -> None:
    """A reply confirm/stop link also sets the matching subscriber's preference."""
    sub = _subscriber(row.email)
    if sub is not None:
        sub.reply_notifications = row.status == "confirmed"


def prepare_optin(email: str, now: datetime | None = None) -> int | None:
    """Record that `email` asked for replies (in the caller's transaction).

    Returns the id whose confirmation email should be sent after the commit, or None when the
    address is already confirmed.
    """
    if consent(email) == "confirmed":
        return None
    row = _row(email)
    if row is None:
        row = ReplySubscription(email=_key(email), status="pending", created_at=now or utcnow())
        db.session.add(row)
        db.session.flush()
    elif row.status == "stopped":  # asking again after stopping needs a new confirmation
        row.status = "pending"
    return row.id


def send_optin(subscription_id: int, now: datetime | None = None) -> bool:
    """Email the confirmation link for one pending address (at most once a day); commit first."""
    now = now or utcnow()
    row = db.session.get(ReplySubscription, subscription_id)
    if row is None or row.status != "pending":
        return False
    if row.confirm_sent_at is not None and now - row.confirm_sent_at < CONFIRM_RESEND_AFTER:
        return False
    row.confirm_sent_at = now
    token = tokens.make(CONFIRM_PURPOSE, row.id)
    msg = mail.build(
        "reply_confirm", row.email, {"confirm_url": absolute("commenter.reply_confirm", token=token)}
    )
    db.session.commit()  # claimed; no transaction stays open while SMTP talks
    mail.send(msg)
    return True


def unsent_optins(older_than_seconds: float = 60, now: datetime | None = None) -> list[int]:
    """Pending addresses whose confirmation email was never sent (a lost enqueue)."""
    cutoff = (now or utcnow()) - timedelta(seconds=older_than_seconds)
    ids = db.session.scalars(
        select(ReplySubscription.id).where(
            ReplySubscription.status == "pending",
            ReplySubscription.confirm_sent_at.is_(None),
            ReplySubscription.created_at < cutoff,
        )
    ).all()
    db.session.rollback()
    return list(ids)


def confirm(token: str, now: datetime | None = None) -> ReplySubscription:
    """Confirm the address a link was sent to; commit. Raises tokens.TokenError."""
    row = db.session.get(ReplySubscription, tokens.read(CONFIRM_PURPOSE, token, CONFIRM_MAX_AGE))
    if row is None:
        raise tokens.TokenError("This link is not valid.")
    if row.status != "confirmed":
        row.status, row.confirmed_at, row.stopped_at = "confirmed", now or utcnow(), None
        _follow_row(row)
        audit.record("replies.confirmed", "reply_subscription", row.id, "reader")
        db.session.commit()
    return row


def stop(token: str, now: datetime | None = None) -> ReplySubscription:
    """Stop every reply notification to the address a stop link was made for; commit."""
    row = db.session.get(ReplySubscription, tokens.read(STOP_PURPOSE, token, STOP_MAX_AGE))
    if row is None:
        raise tokens.TokenError("This link is not valid.")
    if row.status != "stopped":
        row.status, row.stopped_at = "stopped", now or utcnow()
        _follow_row(row)
        audit.record("replies.stopped", "reply_subscription", row.id, "reader")
        db.session.commit()
    return row


def stop_url(subscription_id: int) -> str:
    return absolute("commenter.reply_stop", token=tokens.make(STOP_PURPOSE, subscription_id))


def _recipient(reply: Comment) -> Comment | None:
    """The parent comment whose author should hear of `reply`, if any."""
    if reply.status != "approved" or reply.parent_id is None or reply.kind != "comment":
        return None
    parent = db.session.get(Comment, reply.parent_id)
    if (
        parent is None
        or parent.status != "approved"
        or not parent.notify_replies
        or not parent.author_email
    ):
        return None
    if _key(parent.author_email) == _key(reply.author_email):
        return None  # never for one's own replies
    if parent.author_token and parent.author_token == reply.author_token:
        return None
    return parent


def _confirmed_row(email: str) -> ReplySubscription | None:
    if consent(email) != "confirmed":
        return None
    row = _row(email)
    if row is None:  # confirmed as a newsletter subscriber: a row gives the stop link an id
        row = ReplySubscription(email=_key(email), status="confirmed", confirmed_at=utcnow())
        db.session.add(row)
        db.session.flush()
    return row


def _under_hourly_cap(email: str, now: datetime) -> bool:
    sent = db.session.scalar(
        select(func.count())
        .select_from(ReplyNotice)
        .where(ReplyNotice.email == email, ReplyNotice.sent_at > now - timedelta(hours=1))
    )
    return sent < int(settings.get("comments.reply_notices_per_hour"))


def notify(comment_id: int, now: datetime | None = None) -> int:
    """Tell the parent's author about an approved reply; return how many messages were sent.

    The message is built, the claim (a pending ReplyNotice) committed, and only then is SMTP
    spoken to; the notice is marked sent after the server accepted it, and retry_unsent sends
    it again if it never was.
    """
    now = now or utcnow()
    reply = db.session.get(Comment, comment_id)
    parent = _recipient(reply) if reply is not None else None
    row = _confirmed_row(parent.author_email) if parent is not None else None
    if row is None or not _under_hourly_cap(row.email, now):
        db.session.rollback()
        return 0
    msg = _message(reply, parent, row)
    notice = ReplyNotice(comment_id=reply.id, email=row.email, sent_at=now, status="pending",
                         attempts=1)
    db.session.add(notice)
    try:
        db.session.flush()
        notice_id = notice.id
        db.session.commit()  # the claim: a second run finds the notice and sends nothing
    except IntegrityError:
        db.session.rollback()
        return 0
    return _deliver(notice_id, msg)


def _deliver(notice_id: int, msg) -> int:
    """Send one claimed notice (no transaction open); mark it sent only when SMTP accepted it."""
    try:
        mail.send(msg)
    except Exception:  # the notice stays pending: retry_unsent tries again later
        log.warning("reply notification %s not sent; will retry", notice_id, exc_info=True)
        return 0
    db.session.execute(update(ReplyNotice).where(ReplyNotice.id == notice_id)
                       .values(status="sent", sent_at=utcnow()))
    db.session.commit()
    return 1


def retry_unsent(older_than_seconds: float = RETRY_AFTER_SECONDS,
                 now: datetime | None = None) -> int:
    """Send again the notices claimed but never sent (SMTP failed or a worker died)."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=older_than_seconds)
    ids = db.session.scalars(select(ReplyNotice.id).where(
        ReplyNotice.status == "pending", ReplyNotice.sent_at < cutoff).order_by(ReplyNotice.id)
    ).all()
    db.session.rollback()
    return sum(_retry(notice_id, cutoff, now) for notice_id in ids)


def _retry(notice_id: int, cutoff: datetime, now: datetime) -> int:
    notice = db.session.get(ReplyNotice, notice_id)
    if notice is None or notice.status != "pending" or notice.sent_at >= cutoff:
        db.session.rollback()
        return 0
    reply = db.session.get(Comment, notice.comment_id)
    parent = _recipient(reply) if reply is not None else None
    row = _confirmed_row(parent.author_email) if parent is not None else None
    if row is None or row.email != notice.email or notice.attempts >= MAX_ATTEMPTS:
        notice.status = "dropped" if notice.attempts < MAX_ATTEMPTS else "failed"
        db.session.commit()
        return 0
    msg = _message(reply, parent, row)
    claimed = db.session.execute(  # another sweep may have taken it meanwhile
        update(ReplyNotice)
        .where(ReplyNotice.id == notice_id, ReplyNotice.status == "pending",
               ReplyNotice.sent_at == notice.sent_at)
        .values(sent_at=now, attempts=ReplyNotice.attempts + 1)
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return _deliver(notice_id, msg) if claimed == 1 else 0


def _message(reply: Comment, parent: Comment, row: ReplySubscription):
    issue = db.session.get(Issue, reply.issue_id)
    stop = stop_url(row.id)
    context = {
        "replier": "".join(ch for ch in reply.author_name if ch.isprintable()),
        "reply_text": excerpt(reply.body_html, 120),
        "your_text": excerpt(parent.body_html, 40),
        "issue_title": issue.title,
        "reply_url": absolute("public.issue", slug=issue.slug) + f"#comment-{reply.id}",
        "stop_url": stop,
    }
    headers = {
        "List-Unsubscribe": f"<{stop}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    return mail.build("reply_notification", row.email, context, headers)
