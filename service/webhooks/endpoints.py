"""The endpoints an admin registers: a URL, the events it wants, its signing secret."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from service.core import audit
from service.extensions import db
from service.models import Webhook
from service.models.webhooks import EVENTS


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
        audit.record(
            "webhook.enabled" if active else "webhook.disabled", "webhook", webhook_id, actor
        )
        db.session.commit()


def remove(webhook_id: int, actor: str) -> None:
    hook = db.session.get(Webhook, webhook_id)
    if hook is not None:
        db.session.delete(hook)
        audit.record("webhook.deleted", "webhook", webhook_id, actor, url=hook.url)
        db.session.commit()
