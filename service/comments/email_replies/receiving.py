"""Receiving a reply by email: matched by its signed address, never by its From header.

`receive(raw, envelope)` is the one way in, for `margins inbound` (LMTP/SMTP), the Maildir
task and the webhook alike. Automatic mail (out of office, auto-acknowledgements, bounces) is
dropped before anything is stored; a forged or altered reply address is refused and nothing is
stored or sent (the sender is not told why). Otherwise one transaction stores the reply (once
per Message-ID) and, when the reader publishes their replies, its pending comment; then
commit, then enqueue the one email the reply earns its reader.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from enum import StrEnum

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from service.comments.email_replies import privacy, publishing
from service.core import audit, queue, settings
from service.extensions import db
from service.mail import inbound, reply_address
from service.mail.inbound import maildir
from service.mail.reply_address import ReplyTarget
from service.models import (
    EmailReply,
    ReplyMail,
    ReplyMode,
    ReplyStatus,
    Subscriber,
    SubscriberStatus,
)
from service.models.base import utcnow
from service.publishing.queries import IssueRef

log = logging.getLogger(__name__)

ASKS_PRIVATE = "The reply asks not to be published."
KEPT_PRIVATE = "The reader keeps their replies private."
AWAITING = "Waiting for the reader to choose: publish it, or keep it private."
ASK_AGAIN_AFTER = timedelta(days=30)


class Outcome(StrEnum):
    """What became of one incoming message (counted by the Maildir reader, logged)."""

    AUTO = "auto"  # an automatic answer: dropped
    BOUNCE = "bounce"  # a delivery report: dropped
    UNMATCHED = "unmatched"  # to no reply address at all
    FORGED = "forged"  # a reply address whose MAC does not verify: refused
    UNKNOWN = "unknown"  # a genuine address of a subscriber or issue that is gone or inactive
    DUPLICATE = "duplicate"  # this message was stored before
    RATE_LIMITED = "rate-limited"  # too many replies from this subscriber this hour
    HELD = "held"
    PUBLISHED = "published"
    PRIVATE = "private"
    REFUSED = "refused"


def receive(raw: bytes, envelope: list[str] | None = None, now: datetime | None = None) -> Outcome:
    """Act on one incoming message (raw bytes) sent to `envelope` recipients; commit."""
    incoming = inbound.read(raw)
    if not incoming.is_reply:
        log.info("dropped an automatic message (%s): %s", incoming.kind, incoming.why)
        return Outcome(incoming.kind)
    target, shaped = reply_address.find(inbound.recipients(incoming.message, envelope))
    if target is None:
        if shaped:
            log.warning("refused a reply whose reply address does not verify")
            return Outcome.FORGED
        return Outcome.UNMATCHED
    return _store(incoming, target, now or utcnow())


def _too_many(subscriber_id: int, now: datetime) -> bool:
    recent = db.session.scalar(
        select(func.count(EmailReply.id)).where(
            EmailReply.subscriber_id == subscriber_id,
            EmailReply.received_at > now - timedelta(hours=1),
        )
    )
    return (recent or 0) >= int(settings.get("comments.email_replies_per_hour"))


def _already_asked(subscriber_id: int, now: datetime) -> bool:
    """Whether an earlier reply is still waiting for the reader's answer (asked recently)."""
    return (
        db.session.scalar(
            select(EmailReply.id)
            .where(
                EmailReply.subscriber_id == subscriber_id,
                EmailReply.status == ReplyStatus.HELD,
                EmailReply.received_at > now - ASK_AGAIN_AFTER,
            )
            .limit(1)
        )
        is not None
    )


def _decide(reply: EmailReply, sub: Subscriber, issue: IssueRef, now: datetime) -> None:
    """Held, private, published or refused, by the reply's words and the reader's choice."""
    if not publishing.accepts_replies(issue, now):
        publishing.refuse(reply, publishing.CLOSED, now)
    elif not reply.body_md.strip():
        publishing.refuse(reply, publishing.EMPTY, now)
    elif privacy.wants_private(reply.body_md):
        reply.status, reply.reason = ReplyStatus.PRIVATE, ASKS_PRIVATE
    elif sub.reply_mode == ReplyMode.PRIVATE:
        reply.status, reply.reason = ReplyStatus.PRIVATE, KEPT_PRIVATE
    elif sub.reply_mode == ReplyMode.PUBLISH:
        publishing.publish(reply, sub, now)
    else:  # the first reply from this address asks: publish it, or keep it private?
        ask = not _already_asked(sub.id, now)
        reply.status, reply.reason = ReplyStatus.HELD, AWAITING
        reply.mail, reply.mail_due = (ReplyMail.ASK, True) if ask else (None, False)


def _store(incoming: inbound.Incoming, target: ReplyTarget, now: datetime) -> Outcome:
    sub = db.session.get(Subscriber, target.subscriber_id)
    issue = publishing.issue_ref(target.issue_id)
    if sub is None or issue is None or sub.status != SubscriberStatus.ACTIVE:
        db.session.rollback()
        return Outcome.UNKNOWN
    if db.session.scalar(
        select(EmailReply.id).where(EmailReply.message_key == incoming.message_key)
    ):
        db.session.rollback()
        return Outcome.DUPLICATE
    if _too_many(sub.id, now):
        db.session.rollback()
        log.warning("dropped a reply from subscriber %s: too many this hour", sub.id)
        return Outcome.RATE_LIMITED
    reply = EmailReply(
        issue_id=target.issue_id,
        subscriber_id=sub.id,
        message_key=incoming.message_key,
        subject=incoming.subject,
        body_md=incoming.text,
        attachments_dropped=incoming.attachments_dropped,
        status=ReplyStatus.HELD,
        mail_due=False,
        received_at=now,
    )
    _decide(reply, sub, issue, now)
    db.session.add(reply)
    try:
        db.session.flush()
    except IntegrityError:  # the same message, stored a moment ago by another process
        db.session.rollback()
        return Outcome.DUPLICATE
    audit.record("reply.received", "email_reply", reply.id, "reader", outcome=str(reply.status))
    outcome, due, reply_id = Outcome(reply.status), reply.mail_due, reply.id
    db.session.commit()
    if due:
        queue.enqueue("replies.send_mail", reply_id)
    return outcome


def process_maildir(path: str) -> dict[str, int]:
    """Receive and remove every message in a Maildir of replies; counts by outcome."""
    return maildir.drain(path, receive)


def process_configured_maildir() -> dict[str, int]:
    """Read REPLY_MAILDIR, when one is configured (the periodic task)."""
    path = current_app.config.get("REPLY_MAILDIR")
    return process_maildir(path) if path else {}
