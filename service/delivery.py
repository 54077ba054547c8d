"""The delivery ledger: plan rows, claim batches, send over one connection, mark each row.

A row goes queued → sending (claimed, committed) → sent | failed, or back to queued with a
retry_at after a temporary failure. Claims are leased: a sweep returns rows still `sending`
after the lease (their worker died) to `queued`; only the one message in flight can repeat.
"""

from __future__ import annotations

import logging
import os
import random
import smtplib
import socket
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import count

from flask import current_app
from sqlalchemy import bindparam, case, func, insert, literal, or_, select, text, update

from . import audit, mail, publishing, queue, sendrate, settings
from .bounces import is_user_unknown, verp_address
from .extensions import db
from .models import Delivery, Issue, Send, Subscriber
from .models.base import UTCDateTime, utcnow

log = logging.getLogger(__name__)


# Planning -----------------------------------------------------------------------------------


def plan_issue(issue: Issue, now: datetime | None = None) -> int | None:
    """Add the Send and one queued row per active 'every issue' subscriber (caller commits)."""
    key = str(issue.id)
    if db.session.scalar(select(Send.id).where(Send.kind == "issue", Send.key == key)):
        return None  # planned before: publishing again never re-sends
    send = Send(kind="issue", key=key, issue_id=issue.id, status="running")
    db.session.add(send)
    db.session.flush()
    audience = select(Subscriber.id).where(Subscriber.status == "active",
                                           Subscriber.delivery == "issue")
    plan_rows(send, audience, now)
    if not db.session.scalar(select(select(Delivery.id).where(Delivery.send_id == send.id)
                                    .exists())):  # nobody to send to: finished already
        send.status, send.finished_at = "finished", now or utcnow()
    return send.id


def plan_rows(send: Send, subscriber_ids, now: datetime | None = None) -> int:
    """Insert queued rows for `subscriber_ids` (a select of ids) in one statement."""
    columns = ["send_id", "subscriber_id", "kind", "key", "status", "attempts", "last_error",
               "message_id", "claimed_by", "created_at"]
    sub = subscriber_ids.subquery()
    rows = select(literal(send.id), sub.c[0], literal(send.kind), literal(send.key),
                  literal("queued"), literal(0), literal(""), literal(""), literal(""),
                  literal(now or utcnow(), UTCDateTime))
    return db.session.execute(insert(Delivery).from_select(columns, rows)).rowcount


def _on_publishing(issue: Issue) -> None:
    plan_issue(issue)


def _on_published(issue: Issue) -> None:
    send_id = db.session.scalar(select(Send.id).where(Send.kind == "issue",
                                                      Send.key == str(issue.id)))
    if send_id is not None:
        start(send_id)


publishing.issue_publishing.connect(_on_publishing)
publishing.issue_published.connect(_on_published)


def start(send_id: int) -> None:
    """Enqueue the drain tasks for a send (several, so several workers share it)."""
    for _ in range(int(settings.get("newsletter.parallel_tasks"))):
        queue.enqueue("delivery.drain", send_id)


# Claiming and marking -----------------------------------------------------------------------


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim(send_id: int, limit: int, now: datetime | None = None) -> tuple[str, list[int]]:
    """Take up to `limit` due queued rows of a running send; commit; return (claim, ids).

    PostgreSQL: one statement, the rows locked FOR UPDATE SKIP LOCKED in a materialized CTE
    (evaluated once) and updated through the primary key. SQLite ignores the lock and
    serialises writers; the UPDATE re-checks status='queued' and RETURNING reports the rows
    it took.
    """
    now = now or utcnow()
    token = f"{worker_name()}:{uuid.uuid4().hex[:10]}"
    due = (
        select(Delivery.id)
        .where(Delivery.send_id == send_id, Delivery.status == "queued",
               or_(Delivery.retry_at.is_(None), Delivery.retry_at <= now),
               Delivery.send_id.in_(select(Send.id).where(Send.status == "running")))
        .order_by(Delivery.id).limit(limit).with_for_update(skip_locked=True)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        # Not `id IN (…) AND status = 'queued'`: without fresh statistics (a send's rows were
        # all inserted moments ago) the planner reads that as "half the table" and scans every
        # queued row through the status index for each claim — O(N) a claim, O(N²) a send.
        # Joining the locked ids on the primary key keeps a claim at ~2 ms at any size.
        locked = due.cte("due").prefix_with("MATERIALIZED")
        taken = update(Delivery).where(Delivery.id == locked.c.id)
    else:
        taken = update(Delivery).where(Delivery.id.in_(due.scalar_subquery()),
                                       Delivery.status == "queued")
    ids = db.session.scalars(
        taken.values(status="sending", claimed_at=now, claimed_by=token)
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return token, sorted(ids)


def _relaxed_commit() -> None:
    """On PostgreSQL, don't wait for the WAL flush of this mark.

    A mark survives a worker crash once committed; only a PostgreSQL crash within ~0.6 s could
    lose it (and re-send those few messages). Worth about 30% throughput.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL synchronous_commit TO OFF"))


_table = Delivery.__table__
_SENT = (update(_table)
         .where(_table.c.id == bindparam("row_id"), _table.c.claimed_by == bindparam("token"),
                _table.c.status == "sending")
         .values(status="sent", attempts=_table.c.attempts + 1, last_error="",
                 sent_at=bindparam("now"), message_id=bindparam("mid")))


# PostgreSQL, autocommitted: the mark with synchronous_commit off for its own transaction, and
# the status of the next recipient and of the send read back — one round trip a message, where
# BEGIN, UPDATE, SELECT and COMMIT took four.
_SENT_PG = _SENT.where(
    select(func.set_config("synchronous_commit", "off", True)).scalar_subquery().is_not(None)
).returning(
    select(Subscriber.__table__.c.status)
    .where(Subscriber.__table__.c.id == bindparam("next_sub")).scalar_subquery(),
    select(Send.__table__.c.status)
    .where(Send.__table__.c.id == bindparam("of_send")).scalar_subquery())


def _marker(send_id: int, token: str, rows: list[Row], ledger) -> Callable:
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
        found = ledger.execute(_SENT_PG, {**params, "of_send": send_id,
                                          "next_sub": after.subscriber_id if after else 0}).first()
        if after is not None and found is not None:  # no row: the lease was lost; query later
            after.status, after.send_status = found[0] or "deleted", found[1] or ""

    return mark


def _mark(delivery_id: int, token: str, **values) -> None:
    _relaxed_commit()
    db.session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.claimed_by == token,
               Delivery.status == "sending")
        .values(attempts=Delivery.attempts + 1, **values)
        .execution_options(synchronize_session=False)
    )


def backoff(attempts: int) -> timedelta:
    """Exponential backoff with full jitter: base·2^(n-1), between half and all of it."""
    base = float(settings.get("newsletter.retry_base_seconds"))
    delay = min(base * 2 ** max(0, attempts - 1), 24 * 3600)
    return timedelta(seconds=delay * random.uniform(0.5, 1.0))


def _mark_temporary(row: Row, token: str, error: str, now: datetime) -> None:
    if row.attempts + 1 >= int(settings.get("newsletter.max_attempts")):
        _mark(row.id, token, status="failed", last_error=error[:1000])
    else:
        _mark(row.id, token, status="queued", last_error=error[:1000],
              retry_at=now + backoff(row.attempts + 1))


def _count_error(send_id: int) -> None:
    """Count an error against the send; pause it automatically past the configured limit."""
    limit = int(settings.get("newsletter.pause_after_errors"))
    db.session.execute(update(Send).where(Send.id == send_id)
                       .values(error_count=Send.error_count + 1))
    paused = db.session.execute(
        update(Send).where(Send.id == send_id, Send.status == "running",
                           Send.error_count >= limit).values(status="paused")).rowcount
    if paused:
        audit.record("send.paused", "send", send_id, "system", reason=f"{limit} errors")


def release(token: str) -> int:
    """Give back rows claimed but not attempted (pause, or a lost connection)."""
    n = db.session.execute(
        update(Delivery).where(Delivery.claimed_by == token, Delivery.status == "sending")
        .values(status="queued").execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return n


# Sending ------------------------------------------------------------------------------------


@dataclass
class Row:
    id: int
    kind: str
    key: str
    attempts: int
    subscriber_id: int
    email: str
    name: str
    status: str
    send_status: str | None = None  # read together with the previous row's mark, if it was


def _load(ids: list[int]) -> list[Row]:
    rows = db.session.execute(
        select(Delivery.id, Delivery.kind, Delivery.key, Delivery.attempts, Subscriber.id,
               Subscriber.email, Subscriber.name, Subscriber.status)
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(Delivery.id.in_(ids)).order_by(Delivery.id)).all()
    return [Row(*r) for r in rows]


_rotation = count()  # batches take the configured servers in turn


def smtp_urls() -> list[str]:
    """Newsletter SMTP servers: NEWSLETTER_SMTP_URLS (comma-separated), else SMTP_URL."""
    listed = current_app.config.get("NEWSLETTER_SMTP_URLS") or current_app.config.get(
        "SMTP_URL") or ""
    return [u.strip() for u in listed.split(",") if u.strip()] or [""]


def _connection(url: str):
    if not url:
        return mail.MailboxConnection(current_app.config["MAILBOX_DIR"])
    return mail.SMTPConnection(mail.SMTPSettings.from_url(url))


def _bucket(url: str) -> sendrate.Bucket:
    rate = float(settings.get("newsletter.rate_per_second"))
    key = mail.SMTPSettings.from_url(url).host if url else "mailbox"
    if url:
        key += f":{mail.SMTPSettings.from_url(url).port}"
    return sendrate.Bucket(key, rate)


def send_rows(send_id: int, token: str, ids: list[int], compose: Callable) -> int:
    """Send the claimed rows over one connection, marking each; return how many were sent."""
    rows = _load(ids)  # subscriber statuses as of now: fresh for the first row
    db.session.commit()  # no transaction stays open while we talk SMTP
    urls = smtp_urls()
    url = urls[next(_rotation) % len(urls)]
    bucket, sent, beat = _bucket(url), 0, time.monotonic()
    try:
        with _connection(url) as conn, _ledger() as ledger:
            mark = _marker(send_id, token, rows, ledger)
            for n, row in enumerate(rows):
                if n and not _refresh(send_id, row):  # the send was paused: release the rest
                    break
                if time.monotonic() - beat > 10:
                    beat = _heartbeat(token)
                sent += _send_one(conn, send_id, token, row, compose, bucket, mark)
            db.session.commit()  # the last row's mark, before the connection closes
    except (smtplib.SMTPException, OSError) as exc:  # could not connect, or connection lost
        _fail_connection(send_id, token, f"{type(exc).__name__}: {exc}")
    release(token)
    return sent


@contextmanager
def _ledger():
    """PostgreSQL: a second connection, autocommitting, for the per-message marks."""
    if db.session.get_bind().dialect.name != "postgresql":
        yield None
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as ledger:
        yield ledger


def _send_one(conn, send_id: int, token: str, row: Row, compose: Callable,
              bucket: sendrate.Bucket, mark: Callable) -> int:
    now = utcnow()
    if row.status != "active":  # unsubscribed, bounced or complained since planning
        return _skip(row, token)
    try:
        msg, after_sent = compose(row)
    except mail.HeaderInjectionError as exc:  # e.g. a name with a line break from an import
        db.session.rollback()
        msg, after_sent, why = None, None, f"refused to build the message: {exc}"
    else:
        why = "nothing to send"
    db.session.commit()  # close any transaction the composer's reads opened
    if msg is None:
        _mark(row.id, token, status="failed", last_error=why)
        db.session.commit()
        return 0
    if not _acquire(bucket, send_id, row):
        return _skip(row, token)
    try:
        if isinstance(msg, mail.RawMessage):
            conn.send_raw(msg, verp_address(row.subscriber_id))
        else:
            conn.send(msg, envelope_from=verp_address(row.subscriber_id))
    except smtplib.SMTPRecipientsRefused as exc:
        code, reply = next(iter(exc.recipients.values()))
        _mark_refused(send_id, token, row, code, _text(reply), now)
        return 0
    except smtplib.SMTPResponseException as exc:
        if exc.smtp_code == 421:  # the server is closing the connection: retry the batch
            raise
        _mark_refused(send_id, token, row, exc.smtp_code, _text(exc.smtp_error), now)
        return 0
    mark(row, now, msg["Message-ID"])
    if after_sent:
        after_sent()
    return 1  # committed already (PostgreSQL), or by the next row's status check


def _refresh(send_id: int, row: Row) -> bool:
    """Re-read the subscriber status just before a message; commit; True if the send runs.

    PostgreSQL, after a sent mark: read by the mark's own statement, nothing to do. Otherwise
    PostgreSQL reads in the previous row's mark transaction; SQLite commits the mark first, so
    the write lock is not held for the read (WAL reads are cheap).
    """
    if row.send_status is not None:
        return row.send_status == "running"
    if db.session.get_bind().dialect.name != "postgresql":
        db.session.commit()
    row.status, send_status = _current(send_id, row.subscriber_id)
    db.session.commit()
    return send_status == "running"


def _skip(row: Row, token: str) -> int:
    _mark(row.id, token, status="failed", last_error=f"skipped: subscriber is {row.status}")
    db.session.commit()
    return 0


def _acquire(bucket: sendrate.Bucket, send_id: int, row: Row) -> bool:
    """Wait for the send rate; after a real wait, check again that the subscriber is active."""
    started = time.monotonic()
    bucket.acquire()
    if time.monotonic() - started < 0.05:
        return True
    row.status = _current(send_id, row.subscriber_id)[0]
    db.session.commit()
    return row.status == "active"


def _text(value) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _mark_refused(send_id: int, token: str, row: Row, code: int, reply: str,
                  now: datetime) -> None:
    error = f"{code} {reply}"
    _count_error(send_id)
    if 400 <= code < 500:
        _mark_temporary(row, token, error, now)
    else:
        _mark(row.id, token, status="failed", last_error=error[:1000])
        if is_user_unknown(code, reply):
            from .bounces import mark_subscriber

            mark_subscriber(row.subscriber_id, "bounced", reason=error)
    db.session.commit()


def _fail_connection(send_id: int, token: str, error: str) -> None:
    """The server is unreachable: every row still claimed retries later."""
    db.session.rollback()
    now = utcnow()
    rows = db.session.execute(select(Delivery.id, Delivery.attempts).where(
        Delivery.claimed_by == token, Delivery.status == "sending")).all()
    for delivery_id, attempts in rows:
        _mark_temporary(Row(delivery_id, "", "", attempts, 0, "", "", ""), token, error, now)
    _count_error(send_id)
    db.session.commit()
    log.warning("send %s: %s; %d rows will retry", send_id, error, len(rows))


def _heartbeat(token: str) -> float:
    """Renew the lease on rows this worker still holds."""
    db.session.execute(update(Delivery).where(Delivery.claimed_by == token,
                                              Delivery.status == "sending")
                       .values(claimed_at=utcnow())
                       .execution_options(synchronize_session=False))
    db.session.commit()
    return time.monotonic()


_subs, _sends = Subscriber.__table__, Send.__table__
_STATUS = select(_subs.c.status,  # pre-built, like _SENT: this runs once per message
                 select(_sends.c.status).where(_sends.c.id == bindparam("send_id"))
                 .scalar_subquery()).where(_subs.c.id == bindparam("sub_id"))


def _current(send_id: int, subscriber_id: int) -> tuple[str, str]:
    """The subscriber's and the send's status right now, in one small query.

    Read just before each message (an unsubscribe or a pause stops mail at once); every
    caller commits before talking SMTP.
    """
    found = db.session.execute(_STATUS, {"sub_id": subscriber_id, "send_id": send_id}).first()
    if found is None:  # the subscriber was deleted: skip the row, keep the send going
        return "deleted", db.session.scalar(select(Send.status).where(Send.id == send_id)) or ""
    return found[0], found[1] or ""


def drain(send_id: int, progress: Callable[[int], None] | None = None) -> int:
    """Claim and send batches of a send until nothing is due; return how many were sent."""
    from .newsletter_mail import composer_for

    send = db.session.get(Send, send_id)
    if send is None:
        return 0
    compose = composer_for(send)
    size, total = int(settings.get("newsletter.batch_size")), 0
    while True:
        token, ids = claim(send_id, size)
        if not ids:
            break
        total += send_rows(send_id, token, ids, compose)
        if progress:
            progress(len(ids))
    finish_if_done(send_id)
    return total


def finish_if_done(send_id: int) -> bool:
    """Mark a running send finished when no row is queued or sending; commit."""
    open_rows = select(Delivery.id).where(Delivery.send_id == send_id,
                                          Delivery.status.in_(("queued", "sending")))
    done = db.session.execute(
        update(Send).where(Send.id == send_id, Send.status == "running", ~open_rows.exists())
        .values(status="finished", finished_at=utcnow())).rowcount
    db.session.commit()
    return bool(done)


# Sweeps, progress, pause and resume ---------------------------------------------------------


def sweep(now: datetime | None = None) -> int:
    """Return expired claims to the queue and restart sends with due rows; return restarts."""
    now = now or utcnow()
    lease = timedelta(seconds=float(settings.get("newsletter.lease_seconds")))
    db.session.execute(
        update(Delivery).where(Delivery.status == "sending", Delivery.claimed_at < now - lease)
        .values(status="queued").execution_options(synchronize_session=False))
    db.session.commit()
    running = db.session.scalars(select(Send.id).where(Send.status == "running")).all()
    restarted = 0
    for send_id in running:
        due = db.session.scalar(select(Delivery.id).where(
            Delivery.send_id == send_id, Delivery.status == "queued",
            or_(Delivery.retry_at.is_(None), Delivery.retry_at <= now)).limit(1))
        if due is not None:
            start(send_id)
            restarted += 1
        else:
            finish_if_done(send_id)
    return restarted


def progress(send_id: int) -> dict[str, int]:
    """Counts of a send's rows by status, plus the total."""
    counts = dict(db.session.execute(
        select(Delivery.status, func.count()).where(Delivery.send_id == send_id)
        .group_by(Delivery.status)).all())
    result = {s: counts.get(s, 0) for s in ("queued", "sending", "sent", "failed")}
    result["total"] = sum(result.values())
    result["done"] = result["sent"] + result["failed"]
    return result


def pause(send_id: int, actor: str) -> None:
    """Stop a send after the messages in flight; nothing sent is lost; commit."""
    db.session.execute(update(Send).where(Send.id == send_id, Send.status == "running")
                       .values(status="paused"))
    audit.record("send.paused", "send", send_id, actor)
    db.session.commit()


def resume(send_id: int, actor: str) -> None:
    """Restart a paused send where it stopped (sent rows stay sent); commit, then enqueue."""
    db.session.execute(update(Send).where(Send.id == send_id, Send.status == "paused")
                       .values(status="running", error_count=0))
    audit.record("send.resumed", "send", send_id, actor)
    db.session.commit()
    start(send_id)


def status_order():
    """Sort running and paused sends first in the admin list."""
    return case((Send.status == "running", 0), (Send.status == "paused", 1), else_=2)


def init_app(app) -> None:
    """Newsletter settings from the environment (the receivers connect on import)."""
    for name in ("BOUNCE_WEBHOOK_SECRET", "BOUNCE_DOMAIN", "BOUNCE_MAILDIR", "SENDRATE_URL",
                 "NEWSLETTER_SMTP_URLS"):
        app.config.setdefault(name, os.environ.get(name, ""))
