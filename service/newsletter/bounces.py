"""Bounces and complaints: DSN and ARF parsing, from a Maildir or a provider's webhook.

Every newsletter message goes out with a VERP envelope sender (mail/headers.py), so a bounce
names its subscriber without reading the body. Point the bounce domain's mail at a
Maildir (read by `margins process-bounces DIR` or the periodic task when BOUNCE_MAILDIR is set),
or POST each DSN to /webhooks/bounces with the shared secret.
"""

from __future__ import annotations

import mailbox
import re
from email import message_from_bytes, policy
from email.message import Message
from email.utils import getaddresses

from flask import current_app
from sqlalchemy import select

from service.comments.reply_consent import sync_subscriber
from service.core import audit
from service.core.addresses import email_key
from service.extensions import db
from service.mail.headers import parse_verp
from service.models import Subscriber, SubscriberStatus
from service.models.base import utcnow
from service.newsletter.subscriptions import unsubscribe

_STATUS = re.compile(r"^Status:\s*([245])\.(\d{1,3})\.(\d{1,3})", re.IGNORECASE | re.MULTILINE)
_UNKNOWN = re.compile(
    r"user unknown|unknown user|no such user|does not exist|"
    r"mailbox unavailable|recipient rejected|\b5\.1\.1\b|\b5\.1\.10\b",
    re.IGNORECASE,
)


def is_user_unknown(code: int, text: str) -> bool:
    """A permanent refusal that means the mailbox does not exist."""
    return 500 <= code < 600 and (
        code in (550, 551, 553)
        and bool(_UNKNOWN.search(text))
        or "5.1.1" in text
        or "5.1.10" in text
    )


def mark_subscriber(subscriber_id: int, status: SubscriberStatus, reason: str = "") -> bool:
    """Mark a subscriber bounced or complained (the caller commits); True if it changed."""
    sub = db.session.get(Subscriber, subscriber_id)
    if sub is None or sub.status not in (SubscriberStatus.ACTIVE, SubscriberStatus.PENDING):
        return False
    sub.status, sub.unsubscribed_at, sub.confirm_due = status, utcnow(), False
    sync_subscriber(sub)  # no reply notifications to an address that bounced or complained
    audit.record(f"subscriber.{status}", "subscriber", sub.id, "bounces", reason=reason[:500])
    return True


def classify(msg: Message) -> str:
    """'complaint' for an ARF feedback report, 'hard'/'soft' for a DSN, else 'unknown'."""
    report = str(msg.get_param("report-type") or "").lower()
    if msg.get_content_type() == "multipart/report" and report == "feedback-report":
        return "complaint"
    for part in msg.walk():
        if part.get_content_type() == "message/delivery-status":
            match = _STATUS.search(part.as_string())
            if match:
                return "hard" if match.group(1) == "5" else "soft"
    body = msg.get_body(preferencelist=("plain",)) if hasattr(msg, "get_body") else None
    text = body.get_content() if body is not None else ""
    return "hard" if _UNKNOWN.search(text) else "unknown"


def _recipients(msg: Message, envelope_to: str | None) -> list[str]:
    values = [envelope_to or ""]
    for name in ("X-Original-To", "Delivered-To", "Envelope-To", "To"):
        values += msg.get_all(name, [])
    return [addr for _, addr in getaddresses([str(v) for v in values]) if addr]


def process_message(raw: bytes, envelope_to: str | None = None) -> str:
    """Act on one incoming message to a VERP address; commit; return what was done."""
    msg = message_from_bytes(raw, policy=policy.default)
    for address in _recipients(msg, envelope_to):
        parsed = parse_verp(address)
        if parsed is None:
            continue
        purpose, sid = parsed
        if purpose == "unsubscribe":
            unsubscribe(sid, via="mailto")
            return SubscriberStatus.UNSUBSCRIBED
        kind = classify(msg)
        if kind in ("hard", "complaint"):
            status = SubscriberStatus.BOUNCED if kind == "hard" else SubscriberStatus.COMPLAINED
            changed = mark_subscriber(sid, status, reason=str(msg["Subject"] or ""))
            db.session.commit()
            return status if changed else "already"
        return "ignored"
    return "unmatched"


def process_event(kind: str, address: str) -> str:
    """A provider webhook's bounce/complaint for an address (VERP or plain); commit."""
    parsed = parse_verp(address)
    sid: int | None
    if parsed is not None:
        sid = parsed[1]
    else:
        sid = db.session.scalar(select(Subscriber.id).where(Subscriber.email == email_key(address)))
    if sid is None:
        return "unmatched"
    status = {"bounce": SubscriberStatus.BOUNCED, "complaint": SubscriberStatus.COMPLAINED}.get(
        kind
    )
    if status is None:
        return "ignored"
    changed = mark_subscriber(sid, status, reason=f"webhook {kind}")
    db.session.commit()
    return status if changed else "already"


def process_configured_maildir() -> dict[str, int]:
    """Process BOUNCE_MAILDIR, when one is configured (the periodic task)."""
    path = current_app.config.get("BOUNCE_MAILDIR")
    return process_maildir(path) if path else {}


def process_maildir(path: str) -> dict[str, int]:
    """Process and remove every message in a Maildir of bounces; return counts by outcome."""
    box, counts = mailbox.Maildir(path, factory=None, create=True), dict[str, int]()
    for key in list(box.keys()):
        with box.get_file(key) as fh:
            outcome = process_message(fh.read())
        counts[outcome] = counts.get(outcome, 0) + 1
        box.remove(key)
    return counts
