"""Confirmation emails: the one owed after subscribing, and one reminder a day later.

Each is claimed by a conditional UPDATE before SMTP is spoken to, so two tasks never both send;
a failed send gives the claim back, and the outbox sweep sends whatever is still owed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from service import mail
from service.core import tokens
from service.core.db import rowcount
from service.core.urls import absolute
from service.extensions import db
from service.models import Subscriber, SubscriberStatus
from service.models.base import utcnow
from service.newsletter.subscriptions import CONFIRM_MAX_AGE

REMIND_AFTER = timedelta(hours=24)


def send_confirmation(subscriber_id: int, now: datetime | None = None) -> bool:
    """Send the owed confirmation email (claimed first, so two tasks never both send)."""
    now = now or utcnow()
    claimed = rowcount(
        db.session.execute(
            update(Subscriber)
            .where(
                Subscriber.id == subscriber_id,
                Subscriber.confirm_due.is_(True),
                Subscriber.status == SubscriberStatus.PENDING,
            )
            .values(confirm_due=False, confirm_sent_at=now)
        )
    )
    db.session.commit()
    if not claimed:
        return False
    try:
        _mail_confirmation(subscriber_id, "confirm")
    except Exception:
        db.session.rollback()
        db.session.execute(
            update(Subscriber).where(Subscriber.id == subscriber_id).values(confirm_due=True)
        )
        db.session.commit()
        raise
    return True


def send_reminder(subscriber_id: int, now: datetime | None = None) -> bool:
    """Send the one reminder for a confirmation link unused after 24 hours."""
    now = now or utcnow()
    claimed = rowcount(
        db.session.execute(
            update(Subscriber)
            .where(
                Subscriber.id == subscriber_id,
                Subscriber.status == SubscriberStatus.PENDING,
                Subscriber.reminder_sent_at.is_(None),
                Subscriber.confirm_due.is_(False),
                Subscriber.confirm_sent_at <= now - REMIND_AFTER,
            )
            .values(reminder_sent_at=now)
        )
    )
    db.session.commit()
    if claimed:
        _mail_confirmation(subscriber_id, "confirm_reminder")
    return bool(claimed)


def _mail_confirmation(subscriber_id: int, template: str) -> None:
    """Build the message (reads settings), end the transaction, then talk to SMTP.

    Until confirmed, the name someone typed is neither printed nor used as display name: the
    form must not relay a visitor's text to an address they typed.
    """
    sub = db.session.get(Subscriber, subscriber_id)
    if sub is None:  # deleted meanwhile: nothing to confirm
        db.session.rollback()
        return
    token = tokens.make("confirm", {"s": sub.id, "e": sub.email})
    msg = mail.build(
        template, sub.email, {"confirm_url": absolute("subscribe.confirm", token=token)}
    )
    db.session.rollback()  # no transaction open while we talk to the SMTP server
    mail.send(msg)


def sweep(now: datetime | None = None) -> int:
    """Send owed confirmations and due reminders (the outbox sweep); return how many."""
    now = now or utcnow()
    owed = db.session.scalars(
        select(Subscriber.id).where(
            Subscriber.status == SubscriberStatus.PENDING, Subscriber.confirm_due.is_(True)
        )
    ).all()
    remind = db.session.scalars(
        select(Subscriber.id).where(
            Subscriber.status == SubscriberStatus.PENDING,
            Subscriber.reminder_sent_at.is_(None),
            Subscriber.confirm_due.is_(False),
            Subscriber.confirm_sent_at <= now - REMIND_AFTER,
            Subscriber.confirm_sent_at > now - timedelta(seconds=CONFIRM_MAX_AGE),
        )
    ).all()
    db.session.rollback()
    sent = sum(send_confirmation(sid, now) for sid in owed)
    return sent + sum(send_reminder(sid, now) for sid in remind)
