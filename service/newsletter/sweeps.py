"""Sweeps, pause and resume: what keeps a send moving when workers die or servers fail."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, or_, select, update

from service.core import audit, settings
from service.extensions import db
from service.models import Delivery, DeliveryStatus, Send, SendStatus
from service.models.base import utcnow
from service.newsletter.ledger import finish_if_done
from service.newsletter.planning import start


def sweep(now: datetime | None = None) -> int:
    """Return expired claims to the queue and restart sends with due rows; return restarts."""
    now = now or utcnow()
    lease = timedelta(seconds=float(settings.get("newsletter.lease_seconds")))
    db.session.execute(
        update(Delivery)
        .where(Delivery.status == DeliveryStatus.SENDING, Delivery.claimed_at < now - lease)
        .values(status=DeliveryStatus.QUEUED)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    running = db.session.scalars(select(Send.id).where(Send.status == SendStatus.RUNNING)).all()
    restarted = 0
    for send_id in running:
        due = db.session.scalar(
            select(Delivery.id)
            .where(
                Delivery.send_id == send_id,
                Delivery.status == DeliveryStatus.QUEUED,
                or_(Delivery.retry_at.is_(None), Delivery.retry_at <= now),
            )
            .limit(1)
        )
        if due is not None:
            start(send_id)
            restarted += 1
        else:
            finish_if_done(send_id)
    return restarted


def pause(send_id: int, actor: str) -> None:
    """Stop a send after the messages in flight; nothing sent is lost; commit."""
    db.session.execute(
        update(Send)
        .where(Send.id == send_id, Send.status == SendStatus.RUNNING)
        .values(status=SendStatus.PAUSED)
    )
    audit.record("send.paused", "send", send_id, actor)
    db.session.commit()


def resume(send_id: int, actor: str) -> None:
    """Restart a paused send where it stopped (sent rows stay sent); commit, then enqueue."""
    db.session.execute(
        update(Send)
        .where(Send.id == send_id, Send.status == SendStatus.PAUSED)
        .values(status=SendStatus.RUNNING, error_count=0)
    )
    audit.record("send.resumed", "send", send_id, actor)
    db.session.commit()
    start(send_id)


def status_order():
    """Sort running and paused sends first in the admin list."""
    return case(
        (Send.status == SendStatus.RUNNING, 0), (Send.status == SendStatus.PAUSED, 1), else_=2
    )
