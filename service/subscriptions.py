"""Subscribing: double opt-in, reminders, preferences, unsubscribing, re-subscribing."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import select, update

from . import audit, mail, queue, settings, tokens, webhooks
from . import reply_notifications as replies
from .extensions import db
from .models import Subscriber
from .models.base import utcnow
from .models.subscribers import DELIVERY_MODES

CONFIRM_EVERY = timedelta(hours=1)  # at most one confirmation email per address per hour
REMIND_AFTER = timedelta(hours=24)
CONFIRM_MAX_AGE = 7 * tokens.DAY
LINK_MAX_AGE = 400 * tokens.DAY  # preference and unsubscribe links in old emails keep working


class SubscriptionError(ValueError):
    """A subscriber's request that cannot be carried out; the message says why."""


@dataclass(frozen=True)
class SubscriberView:
    """What public pages may show about a subscriber: deliberately no email address."""

    id: int
    name: str
    status: str
    delivery: str
    reply_notifications: bool


def view(sub: Subscriber) -> SubscriberView:
    return SubscriberView(sub.id, sub.name, sub.status, sub.delivery, sub.reply_notifications)


def normalize_email(raw: str) -> str:
    """Validate an address (refusing CR/LF and other control characters); return it lower-case."""
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in raw):
        raise SubscriptionError("An email address cannot contain line breaks.")
    try:
        result = validate_email(
            raw.strip(), check_deliverability=current_app.config.get(
                "EMAIL_CHECK_DELIVERABILITY", False))
    except EmailNotValidError as exc:
        raise SubscriptionError(f"That email address does not look right: {exc}") from None
    return result.normalized.lower()


def clean_name(raw: str) -> str:
    """A display name: one line, at most 200 characters."""
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in raw or ""):
        raise SubscriptionError("A name cannot contain line breaks.")
    return " ".join((raw or "").split())[:200]


def form_stamp(now: float | None = None) -> str:
    """A signed time for the subscribe form's time trap."""
    return tokens.make("subscribe-form", int(now if now is not None else time.time()))


def looks_automated(stamp: str, honeypot: str, now: float | None = None) -> bool:
    """True when the hidden field was filled or the form came back implausibly fast."""
    if honeypot:
        return True
    try:
        shown = tokens.read("subscribe-form", stamp, max_age=tokens.DAY)
    except tokens.TokenError:
        return True
    elapsed = (now if now is not None else time.time()) - shown
    return elapsed < float(settings.get("newsletter.min_form_seconds"))


def subscribe(email: str, name: str = "", ip: str = "", source: str = "form",
              now: datetime | None = None) -> None:
    """Record a request to subscribe; owe a confirmation email if allowed; commit, then enqueue.

    The caller shows the same answer whatever happened, so nobody learns who is subscribed.
    """
    now = now or utcnow()
    email, name = normalize_email(email), clean_name(name)
    sub = db.session.scalar(select(Subscriber).where(Subscriber.email == email))
    if sub is None:
        sub = Subscriber(email=email, name=name, signup_ip=ip[:45], source=source,
                         status="pending", created_at=now)
        db.session.add(sub)
    elif sub.status in ("active", "bounced", "complained"):
        db.session.rollback()  # never mail an address that bounced or complained again
        return
    elif sub.status != "pending":  # re-subscribing after leaving: confirm again
        audit.record("subscriber.resubscribed", "subscriber", sub.id, "subscriber",
                     previous=sub.status)
        sub.status, sub.reminder_sent_at = "pending", None
        sub.name = name or sub.name
    if sub.confirm_sent_at is None or now - sub.confirm_sent_at >= CONFIRM_EVERY:
        sub.confirm_due = True
    due = sub.confirm_due
    db.session.commit()
    if due:
        queue.enqueue("subscriptions.send_confirmation", sub.id)


def links(subscriber_id: int) -> dict[str, str]:
    """The signed links every email carries: preferences, unsubscribe page, one-click POST."""
    from .urls import absolute

    pref = tokens.make("preferences", subscriber_id)
    unsub = tokens.make("unsubscribe", subscriber_id)
    return {
        "preferences_url": absolute("subscribe.preferences", token=pref),
        "unsubscribe_url": absolute("subscribe.unsubscribe_page", token=unsub),
        "one_click_url": absolute("subscribe.one_click", token=unsub),
    }


def send_confirmation(subscriber_id: int, now: datetime | None = None) -> bool:
    """Send the owed confirmation email (claimed first, so two tasks never both send)."""
    now = now or utcnow()
    claimed = db.session.execute(
        update(Subscriber)
        .where(Subscriber.id == subscriber_id, Subscriber.confirm_due.is_(True),
               Subscriber.status == "pending")
        .values(confirm_due=False, confirm_sent_at=now)
    ).rowcount
    db.session.commit()
    if not claimed:
        return False
    try:
        _mail_confirmation(subscriber_id, "confirm")
    except Exception:
        db.session.rollback()
        db.session.execute(update(Subscriber).where(Subscriber.id == subscriber_id)
                           .values(confirm_due=True))
        db.session.commit()
        raise
    return True


def send_reminder(subscriber_id: int, now: datetime | None = None) -> bool:
    """Send the one reminder for a confirmation link unused after 24 hours."""
    now = now or utcnow()
    claimed = db.session.execute(
        update(Subscriber)
        .where(Subscriber.id == subscriber_id, Subscriber.status == "pending",
               Subscriber.reminder_sent_at.is_(None), Subscriber.confirm_due.is_(False),
               Subscriber.confirm_sent_at <= now - REMIND_AFTER)
        .values(reminder_sent_at=now)
    ).rowcount
    db.session.commit()
    if claimed:
        _mail_confirmation(subscriber_id, "confirm_reminder")
    return bool(claimed)


def _mail_confirmation(subscriber_id: int, template: str) -> None:
    """Build the message (reads settings), end the transaction, then talk to SMTP.

    Until confirmed, the name someone typed is neither printed nor used as display name: the
    form must not relay a visitor's text to an address they typed.
    """
    from .urls import absolute

    sub = db.session.get(Subscriber, subscriber_id)
    token = tokens.make("confirm", {"s": sub.id, "e": sub.email})
    msg = mail.build(template, sub.email,
                     {"confirm_url": absolute("subscribe.confirm", token=token)})
    db.session.rollback()  # no transaction open while we talk to the SMTP server
    mail.send(msg)


def sweep(now: datetime | None = None) -> int:
    """Send owed confirmations and due reminders (the outbox sweep); return how many."""
    now = now or utcnow()
    owed = db.session.scalars(select(Subscriber.id).where(
        Subscriber.status == "pending", Subscriber.confirm_due.is_(True))).all()
    remind = db.session.scalars(select(Subscriber.id).where(
        Subscriber.status == "pending", Subscriber.reminder_sent_at.is_(None),
        Subscriber.confirm_due.is_(False), Subscriber.confirm_sent_at <= now - REMIND_AFTER,
        Subscriber.confirm_sent_at > now - timedelta(seconds=CONFIRM_MAX_AGE))).all()
    db.session.rollback()
    sent = sum(send_confirmation(sid, now) for sid in owed)
    return sent + sum(send_reminder(sid, now) for sid in remind)


def confirm_target(token: str) -> SubscriberView:
    """The subscriber a confirmation link is for (raises SubscriptionError if unusable)."""
    try:
        payload = tokens.read("confirm", token, max_age=CONFIRM_MAX_AGE)
    except tokens.TokenError as exc:
        raise SubscriptionError(str(exc)) from None
    sub = db.session.get(Subscriber, payload["s"])
    if sub is None or sub.email != payload["e"]:
        raise SubscriptionError("This link is not valid.")
    return view(sub)


def confirm(token: str, now: datetime | None = None) -> SubscriberView:
    """Confirm a pending subscription (a POST from the page the link opens); commit."""
    target = confirm_target(token)
    sub = db.session.get(Subscriber, target.id)
    if sub.status == "pending":
        sub.status, sub.confirmed_at, sub.confirm_due = "active", now or utcnow(), False
        audit.record("subscriber.confirmed", "subscriber", sub.id, "subscriber")
        replies.sync_subscriber(sub)
        webhooks.emit("subscriber.confirmed", webhook_data(sub))
    elif sub.status != "active":
        raise SubscriptionError("This subscription was ended; subscribe again to restart it.")
    result = view(sub)
    db.session.commit()
    return result


def from_token(purpose: str, token: str) -> SubscriberView:
    """The subscriber a preferences or unsubscribe link is for."""
    try:
        subscriber_id = tokens.read(purpose, token, max_age=LINK_MAX_AGE)
    except tokens.TokenError as exc:
        raise SubscriptionError(str(exc)) from None
    sub = db.session.get(Subscriber, subscriber_id)
    if sub is None:
        raise SubscriptionError("This link is not valid.")
    return view(sub)


def update_preferences(subscriber_id: int, delivery: str, reply_notifications: bool,
                       name: str) -> SubscriberView:
    """Change how (and whether) a subscriber hears from us; commit."""
    if delivery not in DELIVERY_MODES:
        raise SubscriptionError("Choose one of the delivery options.")
    sub = db.session.get(Subscriber, subscriber_id)
    sub.delivery, sub.reply_notifications = delivery, reply_notifications
    sub.name = clean_name(name)
    replies.sync_subscriber(sub)
    audit.record("subscriber.preferences", "subscriber", sub.id, "subscriber",
                 delivery=delivery, reply_notifications=reply_notifications)
    result = view(sub)
    db.session.commit()
    return result


def webhook_data(sub: Subscriber) -> dict:
    """What subscriber events tell the admin's own systems."""
    return {"id": sub.id, "email": sub.email, "name": sub.name, "delivery": sub.delivery,
            "status": sub.status}


def unsubscribe(subscriber_id: int, via: str = "page", now: datetime | None = None) -> None:
    """End a subscription at once (queued mail to them is skipped at send time); commit."""
    sub = db.session.get(Subscriber, subscriber_id)
    if sub is not None and sub.status in ("active", "pending"):
        sub.status, sub.unsubscribed_at, sub.confirm_due = "unsubscribed", now or utcnow(), False
        replies.sync_subscriber(sub)
        audit.record("subscriber.unsubscribed", "subscriber", sub.id, "subscriber", via=via)
        webhooks.emit("subscriber.unsubscribed", {**webhook_data(sub), "via": via})
    db.session.commit()
