"""Site events become delivery rows: receivers of the domain's signals, in their transaction.

Comment events never carry the commenter's email or IP; subscriber events go to the admin's
own systems and do carry the address.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from service.comments.signals import comment_approved, comment_posted
from service.core import queue
from service.core.urls import absolute
from service.extensions import db
from service.models import Comment, Issue, Subscriber, Webhook, WebhookDelivery
from service.models.base import utcnow
from service.models.webhooks import EVENTS
from service.newsletter.signals import subscriber_confirmed, subscriber_unsubscribed
from service.publishing.signals import issue_publishing


def emit(event_name: str, data: dict) -> int:
    """Queue `event_name` for every active endpoint that wants it (caller commits)."""
    assert event_name in EVENTS, event_name
    hooks = db.session.scalars(select(Webhook).where(Webhook.active.is_(True))).all()
    wanted = [h for h in hooks if event_name in h.event_list]
    now = utcnow()
    payload = json.dumps(
        {"event": event_name, "created_at": now.isoformat(), "data": data}, default=str
    )
    for hook in wanted:
        db.session.add(
            WebhookDelivery(
                webhook_id=hook.id, event=event_name, payload=payload, next_attempt_at=now
            )
        )
    if wanted:
        db.session.info["webhooks_due"] = True
    return len(wanted)


def comment_data(comment: Comment, status: str | None = None) -> dict[str, Any]:
    """What a comment event carries: never the commenter's email or IP."""
    issue = db.session.get(Issue, comment.issue_id)
    assert issue is not None
    return {
        "id": comment.id,
        "issue_id": comment.issue_id,
        "issue_title": issue.title,
        "parent_id": comment.parent_id,
        "author_name": comment.author_name,
        "status": status or comment.status,
        "body": comment.body_md,
        "url": absolute("public.issue", slug=issue.slug) + f"#comment-{comment.id}",
    }


def subscriber_data(sub: Subscriber) -> dict[str, Any]:
    """What subscriber events tell the admin's own systems."""
    return {
        "id": sub.id,
        "email": sub.email,
        "name": sub.name,
        "delivery": sub.delivery,
        "status": sub.status,
    }


def _issue_published(issue: Issue, **_: Any) -> None:
    emit(
        "issue.published",
        {
            "id": issue.id,
            "number": issue.number,
            "title": issue.title,
            "url": absolute("public.issue", slug=issue.slug),
        },
    )


def _comment_posted(comment: Comment, status: str | None = None) -> None:
    emit("comment.posted", comment_data(comment, status))


def _comment_approved(comment: Comment, status: str | None = None) -> None:
    emit("comment.approved", comment_data(comment, status))


def _subscriber_confirmed(sub: Subscriber) -> None:
    emit("subscriber.confirmed", subscriber_data(sub))


def _subscriber_unsubscribed(sub: Subscriber, via: str = "") -> None:
    emit("subscriber.unsubscribed", {**subscriber_data(sub), "via": via})


def _enqueue_after_commit(session: Session) -> None:
    if session.info.pop("webhooks_due", False):
        queue.enqueue("webhooks.deliver_due")


def _forget_on_rollback(session: Session, previous_transaction: object) -> None:
    session.info.pop("webhooks_due", None)


def init_app() -> None:
    """Connect the receivers to the domain's signals and to the end of transactions."""
    issue_publishing.connect(_issue_published)
    comment_posted.connect(_comment_posted)
    comment_approved.connect(_comment_approved)
    subscriber_confirmed.connect(_subscriber_confirmed)
    subscriber_unsubscribed.connect(_subscriber_unsubscribed)
    for name, listener in (
        ("after_commit", _enqueue_after_commit),
        ("after_soft_rollback", _forget_on_rollback),
    ):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
