"""Subscribing: double opt-in, reminders, preferences, unsubscribing, re-subscribing."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from service.comments import reply_consent
from service.core import addresses, audit, queue, settings, tokens
from service.core.addresses import AddressError, has_control
from service.core.db import fetch
from service.extensions import db
from service.models import DeliveryMode, ReplyMode, Subscriber, SubscriberStatus
from service.models.base import parse_state, utcnow
from service.newsletter.signals import subscriber_confirmed, subscriber_unsubscribed

CONFIRM_EVERY = timedelta(hours=1)  # at most one confirmation email per address per hour
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
    display_name: str = ""
    reply_mode: str = ReplyMode.ASK


def view(sub: Subscriber) -> SubscriberView:
    return SubscriberView(
        sub.id,
        sub.name,
        sub.status,
        sub.delivery,
        sub.reply_notifications,
        sub.display_name,
        sub.reply_mode,
    )


def normalize_email(raw: str) -> str:
    """A subscriber's address in its one stored form (core/addresses.py)."""
    if has_control(raw):
        raise SubscriptionError("An email address cannot contain line breaks.")
    try:
        return addresses.normalize_email(raw)
    except AddressError as exc:
        raise SubscriptionError(f"That email address does not look right: {exc}") from None


def clean_name(raw: str) -> str:
    """A display name: one line, at most 200 characters."""
    try:
        return addresses.clean_name(raw)
    except AddressError:
        raise SubscriptionError("A name cannot contain line breaks.") from None


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


def subscribe(
    email: str, name: str = "", ip: str = "", source: str = "form", now: datetime | None = None
) -> None:
    """Record a request to subscribe; owe a confirmation email if allowed; commit, then enqueue.

    The caller shows the same answer whatever happened, so nobody learns who is subscribed.
    """
    now = now or utcnow()
    email, name = normalize_email(email), clean_name(name)
    sub = db.session.scalar(select(Subscriber).where(Subscriber.email == email))
    if sub is None:
        sub = Subscriber(
            email=email,
            name=name,
            signup_ip=ip[:45],
            source=source,
            status=SubscriberStatus.PENDING,
            created_at=now,
        )
        db.session.add(sub)
    elif sub.status in (
        SubscriberStatus.ACTIVE,
        SubscriberStatus.BOUNCED,
        SubscriberStatus.COMPLAINED,
    ):
        db.session.rollback()  # never mail an address that bounced or complained again
        return
    elif sub.status != SubscriberStatus.PENDING:  # re-subscribing after leaving: confirm again
        audit.record(
            "subscriber.resubscribed", "subscriber", sub.id, "subscriber", previous=sub.status
        )
        sub.status, sub.reminder_sent_at = SubscriberStatus.PENDING, None
        sub.name = name or sub.name
    if sub.confirm_sent_at is None or now - sub.confirm_sent_at >= CONFIRM_EVERY:
        sub.confirm_due = True
    due = sub.confirm_due
    db.session.commit()
    if due:
        queue.enqueue("subscriptions.send_confirmation", sub.id)


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
    sub = fetch(Subscriber, confirm_target(token).id)
    if sub.status == SubscriberStatus.PENDING:
        sub.status, sub.confirmed_at, sub.confirm_due = (
            SubscriberStatus.ACTIVE,
            now or utcnow(),
            False,
        )
        audit.record("subscriber.confirmed", "subscriber", sub.id, "subscriber")
        reply_consent.sync_subscriber(sub)
        subscriber_confirmed.send(sub)
    elif sub.status != SubscriberStatus.ACTIVE:
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


def clean_display_name(raw: str) -> str:
    """The public name on a subscriber's emailed comments: one line, at most 100 characters,
    and never an email address."""
    name = clean_name(raw)
    if "@" in name:
        raise SubscriptionError("Your public name cannot contain an email address.")
    if len(name) > 100:
        raise SubscriptionError("Your public name is too long (at most 100 characters).")
    return name


def update_preferences(
    subscriber_id: int,
    delivery: str,
    reply_notifications: bool,
    name: str,
    display_name: str | None = None,
    reply_mode: str | None = None,
) -> SubscriberView:
    """Change how (and whether) a subscriber hears from us; commit."""
    mode = parse_state(DeliveryMode, delivery)
    if mode is None:
        raise SubscriptionError("Choose one of the delivery options.")
    sub = db.session.get(Subscriber, subscriber_id)
    if sub is None:
        raise SubscriptionError("This link is not valid.")
    sub.delivery, sub.reply_notifications = mode, reply_notifications
    sub.name = clean_name(name)
    if display_name is not None:
        sub.display_name = clean_display_name(display_name)
    if reply_mode is not None:
        sub.reply_mode = parse_state(ReplyMode, reply_mode) or sub.reply_mode
    reply_consent.sync_subscriber(sub)
    audit.record(
        "subscriber.preferences",
        "subscriber",
        sub.id,
        "subscriber",
        delivery=delivery,
        reply_notifications=reply_notifications,
    )
    result = view(sub)
    db.session.commit()
    return result


def unsubscribe(subscriber_id: int, via: str = "page", now: datetime | None = None) -> None:
    """End a subscription at once (queued mail to them is skipped at send time); commit."""
    sub = db.session.get(Subscriber, subscriber_id)
    if sub is not None and sub.status in (SubscriberStatus.ACTIVE, SubscriberStatus.PENDING):
        sub.status, sub.unsubscribed_at, sub.confirm_due = (
            SubscriberStatus.UNSUBSCRIBED,
            now or utcnow(),
            False,
        )
        reply_consent.sync_subscriber(sub)
        audit.record("subscriber.unsubscribed", "subscriber", sub.id, "subscriber", via=via)
        subscriber_unsubscribed.send(sub, via=via)
    db.session.commit()
