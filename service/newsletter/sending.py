"""Sending claimed rows: one SMTP connection per batch, each row marked as it goes.

No database transaction stays open while we talk SMTP. Before each message the subscriber's and
the send's status are read again, so an unsubscribe or a pause stops mail at once.
"""

from __future__ import annotations

import logging
import smtplib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from itertools import count

from flask import current_app
from sqlalchemy import Connection

from service import mail
from service.config import SMTPSettings
from service.core import settings
from service.core.db import is_postgresql
from service.extensions import db
from service.mail import transport
from service.mail.bulk import RawMessage
from service.mail.headers import HeaderInjectionError, verp_address
from service.models import DeliveryStatus, Send, SendStatus, SubscriberStatus
from service.models.base import utcnow
from service.newsletter import composing, ledger, marks, sendrate
from service.newsletter.ledger import Row

log = logging.getLogger(__name__)


_rotation = count()  # batches take the configured servers in turn


def smtp_urls() -> list[str]:
    """Newsletter SMTP servers: NEWSLETTER_SMTP_URLS (comma-separated), else SMTP_URL."""
    listed = (
        current_app.config.get("NEWSLETTER_SMTP_URLS") or current_app.config.get("SMTP_URL") or ""
    )
    return [u.strip() for u in listed.split(",") if u.strip()] or [""]


def _bucket(url: str) -> sendrate.Bucket:
    rate = float(settings.get("newsletter.rate_per_second"))
    if not url:
        return sendrate.Bucket("mailbox", rate)
    server = SMTPSettings.from_url(url)
    return sendrate.Bucket(f"{server.host}:{server.port}", rate)


def send_rows(send_id: int, token: str, ids: list[int], compose: composing.Composer) -> int:
    """Send the claimed rows over one connection, marking each; return how many were sent."""
    rows = ledger.load_rows(ids)  # subscriber statuses as of now: fresh for the first row
    db.session.commit()  # no transaction stays open while we talk SMTP
    urls = smtp_urls()
    url = urls[next(_rotation) % len(urls)]
    bucket, sent, beat = _bucket(url), 0, time.monotonic()
    try:
        with transport.open_url(url) as conn, _autocommit() as autocommit:
            mark = marks.marker(send_id, token, rows, autocommit)
            for n, row in enumerate(rows):
                if n and not _refresh(send_id, row):  # the send was paused: release the rest
                    break
                if time.monotonic() - beat > 10:
                    beat = ledger.heartbeat(token)
                sent += _send_one(conn, send_id, token, row, compose, bucket, mark)
            db.session.commit()  # the last row's mark, before the connection closes
    except (smtplib.SMTPException, OSError) as exc:  # could not connect, or connection lost
        marks.fail_connection(send_id, token, f"{type(exc).__name__}: {exc}")
    ledger.release(token)
    return sent


@contextmanager
def _autocommit() -> Iterator[Connection | None]:
    """PostgreSQL: a second connection, autocommitting, for the per-message marks."""
    if not is_postgresql():
        yield None
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        yield connection


def _send_one(
    conn: mail.Connection,
    send_id: int,
    token: str,
    row: Row,
    compose: composing.Composer,
    bucket: sendrate.Bucket,
    mark: Callable[[Row, datetime, str], None],
) -> int:
    now = utcnow()
    if row.status != SubscriberStatus.ACTIVE:  # unsubscribed, bounced or complained since planning
        return marks.skip(row, token)
    try:
        msg, after_sent = compose(row)
    except HeaderInjectionError as exc:  # e.g. a name with a line break from an import
        db.session.rollback()
        msg, after_sent, why = None, None, f"refused to build the message: {exc}"
    else:
        why = "nothing to send"
    db.session.commit()  # close any transaction the composer's reads opened
    if msg is None:
        marks.mark(row.id, token, status=DeliveryStatus.FAILED, last_error=why)
        db.session.commit()
        return 0
    if not _acquire(bucket, send_id, row):
        return marks.skip(row, token)
    try:
        if isinstance(msg, RawMessage):
            conn.send_raw(msg, verp_address(row.subscriber_id))
        else:
            conn.send(msg, envelope_from=verp_address(row.subscriber_id))
    except smtplib.SMTPRecipientsRefused as exc:
        code, reply = next(iter(exc.recipients.values()))
        marks.mark_refused(send_id, token, row, code, _text(reply), now)
        return 0
    except smtplib.SMTPResponseException as exc:
        if exc.smtp_code == 421:  # the server is closing the connection: retry the batch
            raise
        marks.mark_refused(send_id, token, row, exc.smtp_code, _text(exc.smtp_error), now)
        return 0
    mark(row, now, str(msg["Message-ID"]))
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
        return row.send_status == SendStatus.RUNNING
    if not is_postgresql():
        db.session.commit()
    row.status, send_status = ledger.current_status(send_id, row.subscriber_id)
    db.session.commit()
    return send_status == SendStatus.RUNNING


def _acquire(bucket: sendrate.Bucket, send_id: int, row: Row) -> bool:
    """Wait for the send rate; after a real wait, check again that the subscriber is active."""
    started = time.monotonic()
    bucket.acquire()
    if time.monotonic() - started < 0.05:
        return True
    row.status = ledger.current_status(send_id, row.subscriber_id)[0]
    db.session.commit()
    return row.status == SubscriberStatus.ACTIVE


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def drain(send_id: int, progress: Callable[[int], None] | None = None) -> int:
    """Claim and send batches of a send until nothing is due; return how many were sent."""
    send = db.session.get(Send, send_id)
    if send is None:
        return 0
    compose = composing.composer_for(send)
    size, total = int(settings.get("newsletter.batch_size")), 0
    while True:
        token, ids = ledger.claim(send_id, size)
        if not ids:
            break
        total += send_rows(send_id, token, ids, compose)
        if progress:
            progress(len(ids))
    ledger.finish_if_done(send_id)
    return total
