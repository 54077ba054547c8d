"""Marking each ledger row's outcome: sent (with its Message-ID), failed, or queued again with
a retry time. Every mark names the claim token, so a worker that lost its lease marks nothing;
errors count against the send, which pauses itself past a limit."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Connection, bindparam, func, select, text, update

from service.core import audit, backoff, settings
from service.core.db import is_postgresql, rowcount
from service.extensions import db
from service.models import Delivery, DeliveryStatus, Send, SendStatus, Subscriber, SubscriberStatus
from service.models.base import utcnow
from service.newsletter.bounces import is_user_unknown, mark_subscriber
from service.newsletter.ledger import Row

log = logging.getLogger(__name__)


def _relaxed_commit() -> None:
    """On PostgreSQL, don't wait for the WAL flush of this mark.

    A mark survives a worker crash once committed; only a PostgreSQL crash within ~0.6 s could
    lose it (and re-send those few messages). Worth about 30% throughput.
    """
    if is_postgresql():
        db.session.execute(text("SET LOCAL synchronous_commit TO OFF"))


_table = Delivery.__table__
_SENT = (
    update(_table)
    .where(
        _table.c.id == bindparam("row_id"),
        _table.c.claimed_by == bindparam("token"),
        _table.c.status == DeliveryStatus.SENDING,
    )
    .values(
        status=DeliveryStatus.SENT,
        attempts=_table.c.attempts + 1,
        last_error="",
        sent_at=bindparam("now"),
        message_id=bindparam("mid"),
    )
)


# PostgreSQL, autocommitted: the mark with synchronous_commit off for its own transaction, and
# the status of the next recipient and of the send read back — one round trip a message, where
# BEGIN, UPDATE, SELECT and COMMIT took four.
_SENT_PG = _SENT.where(
    select(func.set_config("synchronous_commit", "off", True)).scalar_subquery().is_not(None)
).returning(
    select(Subscriber.__table__.c.status)
    .where(Subscriber.__table__.c.id == bindparam("next_sub"))
    .scalar_subquery(),
    select(Send.__table__.c.status)
    .where(Send.__table__.c.id == bindparam("of_send"))
    .scalar_subquery(),
)


def marker(
    send_id: int, token: str, rows: list[Row], ledger: Connection | None
) -> Callable[[Row, datetime, str], None]:
    """How this batch marks a row sent: `mark(row, now, message_id)`.

    With an autocommit `ledger` connection (PostgreSQL) the mark commits at once and fills in
    the next row's subscriber and send status, so `_refresh` needs no query of its own.
    Otherwise the session executes the mark and the next `_refresh` commits it.
    """
    following = dict(zip((r.id for r in rows), rows[1:]))

    def mark(row: Row, now: datetime, message_id: str) -> None:
        params = {"row_id": row.id, "token": token, "now": now, "mid": message_id}
        if ledger is None:
            db.session.execute(_SENT, params)
            return
        after = following.get(row.id)
        found = ledger.execute(
            _SENT_PG,
            {**params, "of_send": send_id, "next_sub": after.subscriber_id if after else 0},
        ).first()
        if after is not None and found is not None:  # no row: the lease was lost; query later
            after.status, after.send_status = found[0] or "deleted", found[1] or ""

    return mark


def mark(delivery_id: int, token: str, **values: object) -> None:
    _relaxed_commit()
    db.session.execute(
        update(Delivery)
        .where(
            Delivery.id == delivery_id,
            Delivery.claimed_by == token,
            Delivery.status == DeliveryStatus.SENDING,
        )
        .values(attempts=Delivery.attempts + 1, **values)
        .execution_options(synchronize_session=False)
    )


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with full jitter: base·2^(n-1) up to a day, between half and all."""
    base = float(settings.get("newsletter.retry_base_seconds"))
    return backoff.delay(attempts, base, cap=24 * 3600, jitter=(0.5, 1.0))


def mark_temporary(row: Row, token: str, error: str, now: datetime) -> None:
    if row.attempts + 1 >= int(settings.get("newsletter.max_attempts")):
        mark(row.id, token, status=DeliveryStatus.FAILED, last_error=error[:1000])
    else:
        mark(
            row.id,
            token,
            status=DeliveryStatus.QUEUED,
            last_error=error[:1000],
            retry_at=now + retry_delay(row.attempts + 1),
        )


def count_error(send_id: int) -> None:
    """Count an error against the send; pause it automatically past the configured limit."""
    limit = int(settings.get("newsletter.pause_after_errors"))
    db.session.execute(
        update(Send).where(Send.id == send_id).values(error_count=Send.error_count + 1)
    )
    paused = rowcount(
        db.session.execute(
            update(Send)
            .where(Send.id == send_id, Send.status == SendStatus.RUNNING, Send.error_count >= limit)
            .values(status=SendStatus.PAUSED)
        )
    )
    if paused:
        audit.record("send.paused", "send", send_id, "system", reason=f"{limit} errors")


def mark_refused(send_id: int, token: str, row: Row, code: int, reply: str, now: datetime) -> None:
    error = f"{code} {reply}"
    count_error(send_id)
    if 400 <= code < 500:
        mark_temporary(row, token, error, now)
    else:
        mark(row.id, token, status=DeliveryStatus.FAILED, last_error=error[:1000])
        if is_user_unknown(code, reply):
            mark_subscriber(row.subscriber_id, SubscriberStatus.BOUNCED, reason=error)
    db.session.commit()


def fail_connection(send_id: int, token: str, error: str) -> None:
    """The server is unreachable: every row still claimed retries later."""
    db.session.rollback()
    now = utcnow()
    rows = db.session.execute(
        select(Delivery.id, Delivery.attempts).where(
            Delivery.claimed_by == token, Delivery.status == DeliveryStatus.SENDING
        )
    ).all()
    for delivery_id, attempts in rows:
        mark_temporary(Row(delivery_id, "", "", attempts, 0, "", "", ""), token, error, now)
    count_error(send_id)
    db.session.commit()
    log.warning("send %s: %s; %d rows will retry", send_id, error, len(rows))


def skip(row: Row, token: str) -> int:
    """Fail a row whose subscriber is no longer active (unsubscribed, bounced, deleted)."""
    mark(
        row.id,
        token,
        status=DeliveryStatus.FAILED,
        last_error=f"skipped: subscriber is {row.status}",
    )
    db.session.commit()
    return 0
