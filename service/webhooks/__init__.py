"""Outgoing webhooks: HMAC-signed JSON POSTs for site events, retried with backoff, logged.

An event adds one delivery row per subscribed endpoint inside the transaction that caused it
(an outbox, events.py: receivers of the domain's signals); once that transaction commits, a task
is enqueued to send them (delivery.py), and a beat sweep sends whatever a lost message left
behind. No transaction stays open during an HTTP call.
"""

from service.webhooks.delivery import MAX_ATTEMPTS, deliver_due, post, recent_deliveries, signature
from service.webhooks.endpoints import WebhookError, register, remove, set_active
from service.webhooks.events import emit, init_app

__all__ = [
    "MAX_ATTEMPTS",
    "WebhookError",
    "deliver_due",
    "emit",
    "init_app",
    "post",
    "recent_deliveries",
    "register",
    "remove",
    "set_active",
    "signature",
]
