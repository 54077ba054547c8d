"""The one email a reply earns its reader: ask (publish or keep private?), received (it will
appear after moderation, with a link to withdraw it) or refused (and why).

It goes to the subscriber's own address, never to the reply's From (which anyone can write),
so only the reader can publish, withdraw or read the answer. The row records what is owed
(mail_due): the task claims it, commits, and only then speaks SMTP; a failed send gives the
claim back, and a sweep sends whatever a lost enqueue left undone.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from service import mail
from service.comments.email_replies import choices, publishing
from service.core import tokens
from service.core.db import fetch, rowcount
from service.core.rendering import comment_markdown_to_html
from service.core.urls import absolute
from service.extensions import db
from service.models import (
    EmailReply,
    Issue,
    ReplyMail,
    ReplyStatus,
    Subscriber,
    SubscriberStatus,
)
from service.models.base import utcnow

log = logging.getLogger(__name__)

#: RFC 3834: answers a program sends to a message are auto-replied, so that the reader's own
#: auto-responder does not answer them (and mail loops stop at once).
HEADERS = {"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"}


def _context(reply: EmailReply, sub: Subscriber, issue: Issue) -> dict:
    context = {
        "issue": issue,
        "issue_url": absolute("public.issue", slug=issue.slug),
        "reply_text": reply.body_md,
        "reply_html": comment_markdown_to_html(reply.body_md),
        "public_name": publishing.public_name(sub),
        "reason": reply.reason,
        "attachments_dropped": reply.attachments_dropped,
        "preferences_url": absolute(
            "subscribe.preferences", token=tokens.make("preferences", sub.id)
        ),
    }
    if reply.mail == ReplyMail.ASK:
        context["choice_url"] = choices.choice_link(reply.id)
    if reply.mail == ReplyMail.RECEIVED:
        context["withdraw_url"] = choices.withdraw_link(reply.id)
    return context


def _headers(reply: EmailReply) -> dict[str, str]:
    headers = dict(HEADERS)
    if reply.message_key.startswith("<") and reply.message_key.endswith(">"):
        headers["In-Reply-To"] = headers["References"] = reply.message_key
    return headers


def _set(reply_id: int, only_if_due: bool, **values: object) -> int:
    statement = update(EmailReply).where(EmailReply.id == reply_id)
    if only_if_due:
        statement = statement.where(EmailReply.mail_due.is_(True))
    changed = db.session.execute(
        statement.values(**values).execution_options(synchronize_session=False)
    )
    db.session.commit()
    return rowcount(changed)


def send_mail(reply_id: int, now: datetime | None = None) -> bool:
    """Send the email owed about one reply, once; True when it went out."""
    reply = db.session.get(EmailReply, reply_id)
    if reply is None or not reply.mail_due or reply.mail is None:
        db.session.rollback()
        return False
    sub = fetch(Subscriber, reply.subscriber_id)
    if sub.status != SubscriberStatus.ACTIVE or (  # unsubscribed, bounced or complained since
        reply.mail == ReplyMail.ASK and reply.status != ReplyStatus.HELD  # already answered
    ):
        _set(reply_id, True, mail_due=False)
        return False
    msg = mail.build(
        f"reply_{reply.mail}",
        sub.email,
        _context(reply, sub, fetch(Issue, reply.issue_id)),
        headers=_headers(reply),
    )
    if _set(reply_id, True, mail_due=False, mail_sent_at=now or utcnow()) != 1:
        return False  # another task sent it meanwhile
    try:
        mail.send(msg)
    except Exception:
        log.warning("could not send the email about reply %s; will retry", reply_id, exc_info=True)
        _set(reply_id, False, mail_due=True, mail_sent_at=None)
        return False
    return True


def unsent(older_than_seconds: float = 60, now: datetime | None = None) -> list[int]:
    """Replies whose email fell due in the last two days and is still owed (a lost enqueue or
    a failed send)."""
    now = now or utcnow()
    owed_since = func.coalesce(EmailReply.decided_at, EmailReply.received_at)
    ids = db.session.scalars(
        select(EmailReply.id)
        .where(
            EmailReply.mail_due.is_(True),
            owed_since < now - timedelta(seconds=older_than_seconds),
            owed_since > now - timedelta(days=2),
        )
        .order_by(EmailReply.id)
    ).all()
    db.session.rollback()
    return list(ids)


def sweep() -> int:
    """Send the emails whose enqueue was lost (the periodic task)."""
    return sum(send_mail(reply_id) for reply_id in unsent())
