"""Outgoing webhooks: HMAC-signed JSON POSTs for site events, retried with backoff, logged.

`emit()` adds one delivery row per subscribed endpoint inside the caller's transaction (an
outbox); once that transaction commits, a task is enqueued to send them, and a beat sweep sends
whatever a lost message left behind. No transaction stays open during an HTTP call.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import secrets
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from . import audit, queue
from .extensions import db
from .models import Webhook, WebhookDelivery
from .models.base import utcnow
from .models.webhooks import EVENTS

MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=5)
TIMEOUT = 10


class WebhookError(ValueError):
    """A bad webhook registration; the message says why."""


def register(url: str, events: list[str], actor: str) -> Webhook:
    """Add an endpoint for `events` with a fresh signing secret; commit."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookError("The URL must start with https:// (or http://) and name a host.")
    unknown = set(events) - set(EVENTS)
    if not events or unknown:
        raise WebhookError("Choose at least one of the listed events.")
    hook = Webhook(url=url, secret=secrets.token_urlsafe(32), events=" ".join(sorted(events)))
    db.session.add(hook)
    db.session.flush()
    audit.record("webhook.created", "webhook", hook.id, actor, url=url, events=hook.events)
    db.session.commit()
    return hook


def set_active(webhook_id: int, active: bool, actor: str) -> None:
    hook = db.session.get(Webhook, webhook_id)
    if hook is not None:
        hook.active = active
        audit.record("webhook.enabled" if active else "webhook.disabled", "webhook",
                     webhook_id, actor)
        db.session.commit()


def remove(webhook_id: int, actor: str) -> None:
    hook = db.session.get(Webhook, webhook_id)
    if hook is not None:
        db.session.delete(hook)
        audit.record("webhook.deleted", "webhook", webhook_id, actor, url=hook.url)
        db.session.commit()


def emit(event_name: str, data: dict) -> int:
    """Queue `event_name` for every active endpoint that wants it (caller commits)."""
    assert event_name in EVENTS, event_name
    hooks = db.session.scalars(select(Webhook).where(Webhook.active.is_(True))).all()
    wanted = [h for h in hooks if event_name in h.event_list]
    now = utcnow()
    payload = json.dumps({"event": event_name, "created_at": now.isoformat(), "data": data},
                         default=str)
    for hook in wanted:
        db.session.add(WebhookDelivery(webhook_id=hook.id, event=event_name, payload=payload,
                                       next_attempt_at=now))
    if wanted:
        db.session.info["webhooks_due"] = True
    return len(wanted)


def comment_data(comment) -> dict:
    """What a comment event carries: never the commenter's email or IP."""
    from .models import Issue
    from .urls import absolute

    issue = db.session.get(Issue, comment.issue_id)
    return {"id": comment.id, "issue_id": comment.issue_id, "issue_title": issue.title,
            "parent_id": comment.parent_id, "author_name": comment.author_name,
            "status": comment.status, "body": comment.body_md,
            "url": absolute("public.issue", slug=issue.slug) + f"#comment-{comment.id}"}


@event.listens_for(Session, "after_commit")
def _enqueue_after_commit(session: Session) -> None:
    if session.info.pop("webhooks_due", False):
        queue.enqueue("webhooks.deliver_due")


@event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, previous_transaction) -> None:
    session.info.pop("webhooks_due", None)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=` + HMAC-SHA256 over "TIMESTAMP.BODY" — what receivers recompute to verify."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, … capped at 1 h, with ±20% jitter."""
    return timedelta(seconds=min(3600, 30 * 2 ** (attempts - 1)) * random.uniform(0.8, 1.2))


def deliver_due(now: datetime | None = None, limit: int = 100) -> int:
    """Send every delivery whose time has come; return how many were delivered."""
    now = now or utcnow()
    db.session.execute(update(WebhookDelivery)
                       .where(WebhookDelivery.status == "sending",
                              WebhookDelivery.claimed_at < now - LEASE)
                       .values(status="queued"))
    ids = db.session.scalars(
        select(WebhookDelivery.id)
        .where(WebhookDelivery.status == "queued", WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.id).limit(limit)).all()
    db.session.commit()
    return sum(_deliver_one(delivery_id, now) for delivery_id in ids)


def _deliver_one(delivery_id: int, now: datetime) -> bool:
    claimed = db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == "queued")
        .values(status="sending", claimed_at=now)).rowcount
    db.session.commit()
    if not claimed:
        return False
    row = db.session.get(WebhookDelivery, delivery_id)
    url, secret, body = row.webhook.url, row.webhook.secret, row.payload.encode()
    event_name = row.event
    db.session.commit()  # no transaction open during the HTTP call
    code, error = post(url, secret, event_name, delivery_id, body)
    row = db.session.get(WebhookDelivery, delivery_id)
    row.attempts += 1
    row.last_status_code, row.last_error = code, error
    if code is not None and 200 <= code < 300:
        row.status, row.delivered_at = "sent", utcnow()
    elif row.attempts >= MAX_ATTEMPTS:
        row.status = "failed"
    else:
        row.status, row.next_attempt_at = "queued", utcnow() + backoff(row.attempts)
    db.session.commit()
    return row.status == "sent"


def post(url: str, secret: str, event_name: str, delivery_id: int,
         body: bytes) -> tuple[int | None, str]:
    """POST one signed payload; return (HTTP status or None, error text)."""
    timestamp = str(int(time.time()))
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json",
        "User-Agent": "Margins-Webhooks/1",
        "X-Margins-Event": event_name,
        "X-Margins-Delivery": str(delivery_id),
        "X-Margins-Timestamp": timestamp,
        "X-Margins-Signature": signature(secret, timestamp, body),
    })
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code} {exc.reason}"
    except (urllib.error.URLError, OSError) as exc:
        return None, str(getattr(exc, "reason", exc))[:500]


def recent_deliveries(limit: int = 100) -> list[WebhookDelivery]:
    return db.session.scalars(
        select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(limit)).all()
