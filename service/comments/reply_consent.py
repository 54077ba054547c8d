"""Consent to reply notifications: an address gets them only after confirming once by emailed
link (or as an active subscriber), and stops them with a signed one-click link.

The newsletter's preferences and unsubscribing take effect here at once (sync_subscriber).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select

from service import mail
from service.core import audit, queue, tokens
from service.core.addresses import email_key
from service.core.urls import absolute
from service.extensions import db
from service.models import Comment, ReplyConsent, ReplySubscription, Subscriber, SubscriberStatus
from service.models.base import utcnow

log = logging.getLogger(__name__)

CONFIRM_PURPOSE = "reply-notify"
STOP_PURPOSE = "reply-stop"
CONFIRM_MAX_AGE = 7 * tokens.DAY
STOP_MAX_AGE = 365 * tokens.DAY
#: At most one confirmation email per address in this time, whoever asks for it.
CONFIRM_RESEND_AFTER = timedelta(hours=24)


def subscription_for(email: str) -> ReplySubscription | None:
    return db.session.scalar(
        select(ReplySubscription).where(ReplySubscription.email == email_key(email))
    )


def _subscriber(email: str) -> Subscriber | None:
    return db.session.scalar(
        select(Subscriber).where(func.lower(Subscriber.email) == email_key(email)).limit(1)
    )


def _subscriber_says_stop(sub: Subscriber | None, row: ReplySubscription | None) -> bool:
    """Preferences off, or the subscription ended (unless replies were confirmed since)."""
    if sub is None or sub.status in (SubscriberStatus.PENDING, SubscriberStatus.ACTIVE):
        return sub is not None and not sub.reply_notifications
    if not sub.reply_notifications:
        return True
    confirmed_since = (
        row is not None
        and row.status == ReplyConsent.CONFIRMED
        and row.confirmed_at
        and (sub.unsubscribed_at is None or row.confirmed_at > sub.unsubscribed_at)
    )
    return not confirmed_since


def consent(email: str) -> ReplyConsent | None:
    """The address's consent (None: it never asked, and is no active subscriber).

    Read afresh each time: the newsletter preferences and unsubscribing take effect at once.
    """
    row, sub = subscription_for(email), _subscriber(email)
    if _subscriber_says_stop(sub, row):
        return ReplyConsent.STOPPED
    if row is not None and row.status in (ReplyConsent.CONFIRMED, ReplyConsent.STOPPED):
        return row.status
    if sub is not None and sub.status == SubscriberStatus.ACTIVE:
        return ReplyConsent.CONFIRMED
    return row.status if row is not None else None


def sync_subscriber(sub: Subscriber, now: datetime | None = None) -> None:
    """Make the address's reply row follow a subscriber's change (in the caller's transaction)."""
    row = subscription_for(sub.email)
    if row is None or (sub.status == SubscriberStatus.PENDING and sub.reply_notifications):
        return  # an unconfirmed subscription neither gives nor takes away consent
    wanted = sub.status == SubscriberStatus.ACTIVE and sub.reply_notifications
    if wanted and row.status == ReplyConsent.STOPPED:
        row.status, row.confirmed_at, row.stopped_at = ReplyConsent.CONFIRMED, now or utcnow(), None
    elif not wanted and row.status != ReplyConsent.STOPPED:
        row.status, row.stopped_at = ReplyConsent.STOPPED, now or utcnow()


def _follow_row(row: ReplySubscription) -> None:
    """A reply confirm/stop link also sets the matching subscriber's preference."""
    sub = _subscriber(row.email)
    if sub is not None:
        sub.reply_notifications = row.status == ReplyConsent.CONFIRMED


def prepare_optin(email: str, now: datetime | None = None) -> int | None:
    """Record that `email` asked for replies (in the caller's transaction).

    Returns the id whose confirmation email should be sent after the commit, or None when the
    address is already confirmed.
    """
    if consent(email) == ReplyConsent.CONFIRMED:
        return None
    row = subscription_for(email)
    if row is None:
        row = ReplySubscription(
            email=email_key(email), status=ReplyConsent.PENDING, created_at=now or utcnow()
        )
        db.session.add(row)
        db.session.flush()
    elif row.status == ReplyConsent.STOPPED:  # asking again after stopping needs a new confirmation
        row.status = ReplyConsent.PENDING
    return row.id


def send_optin(subscription_id: int, now: datetime | None = None) -> bool:
    """Email the confirmation link for one pending address (at most once a day); commit first."""
    now = now or utcnow()
    row = db.session.get(ReplySubscription, subscription_id)
    if row is None or row.status != ReplyConsent.PENDING:
        return False
    if row.confirm_sent_at is not None and now - row.confirm_sent_at < CONFIRM_RESEND_AFTER:
        return False
    row.confirm_sent_at = now
    token = tokens.make(CONFIRM_PURPOSE, row.id)
    msg = mail.build(
        "reply_confirm",
        row.email,
        {"confirm_url": absolute("commenter.reply_confirm", token=token)},
    )
    db.session.commit()  # claimed; no transaction stays open while SMTP talks
    mail.send(msg)
    return True


def unsent_optins(older_than_seconds: float = 60, now: datetime | None = None) -> list[int]:
    """Pending addresses whose confirmation email was never sent (a lost enqueue)."""
    cutoff = (now or utcnow()) - timedelta(seconds=older_than_seconds)
    ids = db.session.scalars(
        select(ReplySubscription.id).where(
            ReplySubscription.status == ReplyConsent.PENDING,
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
    if row.status != ReplyConsent.CONFIRMED:
        row.status, row.confirmed_at, row.stopped_at = ReplyConsent.CONFIRMED, now or utcnow(), None
        _follow_row(row)
        audit.record("replies.confirmed", "reply_subscription", row.id, "reader")
        db.session.commit()
    return row


def stop(token: str, now: datetime | None = None) -> ReplySubscription:
    """Stop every reply notification to the address a stop link was made for; commit."""
    row = db.session.get(ReplySubscription, tokens.read(STOP_PURPOSE, token, STOP_MAX_AGE))
    if row is None:
        raise tokens.TokenError("This link is not valid.")
    if row.status != ReplyConsent.STOPPED:
        row.status, row.stopped_at = ReplyConsent.STOPPED, now or utcnow()
        _follow_row(row)
        audit.record("replies.stopped", "reply_subscription", row.id, "reader")
        db.session.commit()
    return row


def stop_url(subscription_id: int) -> str:
    return absolute("commenter.reply_stop", token=tokens.make(STOP_PURPOSE, subscription_id))


def prepare_for(approved: list[Comment]) -> list[int]:
    """Record the reply opt-ins of newly approved comments (in the caller's transaction).

    Only approved comments ever get the confirmation email; returns the ids to send it for.
    """
    ids = []
    for comment in approved:
        if not comment.notify_replies or not comment.author_email or comment.is_author_reply:
            continue
        if (optin := prepare_optin(comment.author_email)) is not None:
            ids.append(optin)
    return ids


def enqueue_optins(optin_ids: list[int]) -> None:
    """After the commit: enqueue the confirmation emails (a lost one is swept up)."""
    for optin_id in dict.fromkeys(optin_ids):
        queue.enqueue("comments.send_reply_optin", optin_id)


def sweep_optins() -> int:
    """Send the confirmation emails whose enqueue was lost (the periodic task)."""
    return sum(send_optin(optin_id) for optin_id in unsent_optins())
