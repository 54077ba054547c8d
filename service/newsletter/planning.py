"""Planning a send: one queued ledger row per recipient, in one INSERT … SELECT.

Publishing an issue with "email subscribers" on plans its send inside the publishing transaction
(a receiver of publishing.signals.issue_publishing) and starts it after the commit. The unique
(subscriber, kind, key) makes planning twice harmless; an issue is planned at most once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, insert, literal, select

from service.core import queue, settings
from service.core.db import rowcount
from service.extensions import db
from service.models import (
    Delivery,
    DeliveryStatus,
    Issue,
    Send,
    SendKind,
    SendStatus,
    Subscriber,
    SubscriberStatus,
)
from service.models.base import UTCDateTime, utcnow
from service.publishing.signals import issue_published, issue_publishing


def plan_issue(issue: Issue, now: datetime | None = None) -> int | None:
    """Add the Send and one queued row per active 'every issue' subscriber (caller commits)."""
    key = str(issue.id)
    if db.session.scalar(select(Send.id).where(Send.kind == SendKind.ISSUE, Send.key == key)):
        return None  # planned before: publishing again never re-sends
    send = Send(kind=SendKind.ISSUE, key=key, issue_id=issue.id, status=SendStatus.RUNNING)
    db.session.add(send)
    db.session.flush()
    audience = select(Subscriber.id).where(
        Subscriber.status == SubscriberStatus.ACTIVE, Subscriber.delivery == SendKind.ISSUE
    )
    plan_rows(send, audience, now)
    if not db.session.scalar(
        select(select(Delivery.id).where(Delivery.send_id == send.id).exists())
    ):  # nobody to send to: finished already
        send.status, send.finished_at = SendStatus.FINISHED, now or utcnow()
    return send.id


def plan_rows(send: Send, subscriber_ids: Select, now: datetime | None = None) -> int:
    """Insert queued rows for `subscriber_ids` (a select of ids) in one statement."""
    columns = [
        "send_id",
        "subscriber_id",
        "kind",
        "key",
        "status",
        "attempts",
        "last_error",
        "message_id",
        "claimed_by",
        "created_at",
    ]
    sub = subscriber_ids.subquery()
    rows = select(
        literal(send.id),
        sub.c[0],
        literal(send.kind),
        literal(send.key),
        literal(DeliveryStatus.QUEUED),
        literal(0),
        literal(""),
        literal(""),
        literal(""),
        literal(now or utcnow(), UTCDateTime),
    )
    return rowcount(db.session.execute(insert(Delivery).from_select(columns, rows)))


def _on_publishing(issue: Issue, email_subscribers: bool = False) -> None:
    if email_subscribers:
        plan_issue(issue)


def _on_published(issue: Issue) -> None:
    send_id = db.session.scalar(
        select(Send.id).where(Send.kind == SendKind.ISSUE, Send.key == str(issue.id))
    )
    if send_id is not None:
        start(send_id)


def start(send_id: int) -> None:
    """Enqueue the drain tasks for a send (several, so several workers share it)."""
    for _ in range(int(settings.get("newsletter.parallel_tasks"))):
        queue.enqueue("delivery.drain", send_id)


def init_app() -> None:
    """Plan an issue's send as it is published, and start it once that committed."""
    issue_publishing.connect(_on_publishing)
    issue_published.connect(_on_published)
