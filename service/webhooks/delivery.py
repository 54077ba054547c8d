"""Sending the due deliveries: claim, POST (signed), record the answer, back off on failure."""

from __future__ import annotations

import hashlib
import hmac
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update

from service.core import backoff
from service.core.db import fetch, rowcount
from service.extensions import db
from service.models import HookStatus, WebhookDelivery
from service.models.base import utcnow

MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=5)
TIMEOUT = 10


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=` + HMAC-SHA256 over "TIMESTAMP.BODY" — what receivers recompute to verify."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def retry_delay(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, … capped at 1 h, with ±20% jitter."""
    return backoff.delay(attempts, 30, cap=3600, jitter=(0.8, 1.2))


def deliver_due(now: datetime | None = None, limit: int = 100) -> int:
    """Send every delivery whose time has come; return how many were delivered."""
    now = now or utcnow()
    db.session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.status == HookStatus.SENDING, WebhookDelivery.claimed_at < now - LEASE
        )
        .values(status=HookStatus.QUEUED)
    )
    ids = db.session.scalars(
        select(WebhookDelivery.id)
        .where(WebhookDelivery.status == HookStatus.QUEUED, WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.id)
        .limit(limit)
    ).all()
    db.session.commit()
    return sum(_deliver_one(delivery_id, now) for delivery_id in ids)


def _deliver_one(delivery_id: int, now: datetime) -> bool:
    claimed = rowcount(
        db.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == HookStatus.QUEUED)
            .values(status=HookStatus.SENDING, claimed_at=now)
        )
    )
    db.session.commit()
    if not claimed:
        return False
    row = fetch(WebhookDelivery, delivery_id)
    url, secret, body = row.webhook.url, row.webhook.secret, row.payload.encode()
    event_name = row.event
    db.session.commit()  # no transaction open during the HTTP call
    code, error = post(url, secret, event_name, delivery_id, body)
    row = fetch(WebhookDelivery, delivery_id)
    row.attempts += 1
    row.last_status_code, row.last_error = code, error
    if code is not None and 200 <= code < 300:
        row.status, row.delivered_at = HookStatus.SENT, utcnow()
    elif row.attempts >= MAX_ATTEMPTS:
        row.status = HookStatus.FAILED
    else:
        row.status, row.next_attempt_at = HookStatus.QUEUED, utcnow() + retry_delay(row.attempts)
    db.session.commit()
    return row.status == HookStatus.SENT


def post(
    url: str, secret: str, event_name: str, delivery_id: int, body: bytes
) -> tuple[int | None, str]:
    """POST one signed payload; return (HTTP status or None, error text)."""
    timestamp = str(int(time.time()))
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Margins-Webhooks/1",
            "X-Margins-Event": event_name,
            "X-Margins-Delivery": str(delivery_id),
            "X-Margins-Timestamp": timestamp,
            "X-Margins-Signature": signature(secret, timestamp, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code} {exc.reason}"
    except (urllib.error.URLError, OSError) as exc:
        return None, str(getattr(exc, "reason", exc))[:500]


def recent_deliveries(limit: int = 100) -> Sequence[WebhookDelivery]:
    return db.session.scalars(
        select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(limit)
    ).all()
