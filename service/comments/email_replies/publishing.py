"""A reply becomes a pending comment (through the comments' own checks), or is refused.

The comment goes through the same checks as one posted on the site — lengths, the link
limit, the open-issue, duplicate and flood checks (posting.store_trusted) — and then the same
moderation task (the row is pending with moderation_due set; the moderation feed takes it), so
banned words, emails and the classifier apply to it like to any other. Only the bot traps of
the web form (honeypot, time trap) do not apply: the signed reply address stands for the reader.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from service.comments import posting
from service.comments.validation import CommentError
from service.core import settings
from service.extensions import db
from service.models import EmailReply, Issue, ReplyMail, ReplyStatus, Subscriber
from service.publishing.queries import IssueRef

#: The name on a reply's comment when the subscriber gave none that can be shown.
NO_NAME = "A reader"
USER_AGENT = "email reply"
CLOSED = "Comments on this issue are closed, so replies to its email are no longer published."
EMPTY = "Your reply had no text of its own to publish."
REFUSAL_MAIL_EVERY = timedelta(hours=1)

_REF = select(
    Issue.id, Issue.slug, Issue.title, Issue.status, Issue.comments_open, Issue.published_at
)


def public_name(sub: Subscriber) -> str:
    """The name a subscriber's emailed comments show: their display name, else their name,
    never anything that looks like an address."""
    for candidate in (sub.display_name, sub.name):
        name = " ".join((candidate or "").split())
        if name and "@" not in name:
            return name[:100]
    return NO_NAME


def issue_ref(issue_id: int) -> IssueRef | None:
    return db.session.execute(_REF.where(Issue.id == issue_id)).first()


def accepts_replies(issue: IssueRef, now: datetime) -> bool:
    """Whether replies by email to this issue may still become comments: its comments are open
    and it was published at most comments.email_reply_days ago (0: no limit)."""
    if not posting.is_open(issue, now):
        return False
    days = int(settings.get("comments.email_reply_days") or 0)
    return days <= 0 or issue.published_at is None or now < issue.published_at + timedelta(days)


def _refusal_mailed_recently(subscriber_id: int, now: datetime) -> bool:
    return (
        db.session.scalar(
            select(EmailReply.id)
            .where(
                EmailReply.subscriber_id == subscriber_id,
                EmailReply.mail == ReplyMail.REFUSED,
                EmailReply.received_at > now - REFUSAL_MAIL_EVERY,
            )
            .limit(1)
        )
        is not None
    )


def refuse(reply: EmailReply, reason: str, now: datetime) -> None:
    """Keep the reply (for the writer) as refused, and owe the reader one email saying why —
    at most one such email an hour, so a misbehaving client cannot start a mail loop."""
    reply.status, reply.reason, reply.decided_at = ReplyStatus.REFUSED, reason[:300], now
    reply.comment_id = None
    if not _refusal_mailed_recently(reply.subscriber_id, now):
        reply.mail, reply.mail_due = ReplyMail.REFUSED, True


def _explain(exc: CommentError) -> str:
    messages = list(exc.errors.values()) or [exc.message]
    if exc.errors.get("body", "").startswith("Please enter"):
        return EMPTY
    return " ".join(messages)


def publish(reply: EmailReply, sub: Subscriber, now: datetime) -> None:
    """Turn a reply into a pending comment (the caller commits), or refuse it saying why."""
    issue = issue_ref(reply.issue_id)
    if issue is None or not accepts_replies(issue, now):
        refuse(reply, CLOSED, now)
        return
    submission = posting.Submission(
        issue_id=reply.issue_id,
        name=public_name(sub),
        email=sub.email,
        body=reply.body_md,
        user_agent=USER_AGENT,
    )
    try:  # dated when it arrived: the flood and duplicate checks see the replies' own times
        posted = posting.store_trusted(submission, issue, reply.received_at)
    except CommentError as exc:
        refuse(reply, _explain(exc), now)
        return
    reply.status, reply.comment_id, reply.decided_at = ReplyStatus.PUBLISHED, posted.id, now
    reply.reason = ""
    reply.mail, reply.mail_due = ReplyMail.RECEIVED, True
