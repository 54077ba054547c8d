"""The reader's answers by signed link: publish or keep private (the first reply asks), and
withdraw a published reply. Every link opens a page; only its button acts.

The choice is the reader's standing answer (Subscriber.reply_mode, also in their preferences):
it applies to the reply that asked and to every other reply still held, and to later ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from service.comments.email_replies import publishing
from service.core import audit, queue, tokens
from service.core.db import fetch, rowcount
from service.core.rendering import comment_markdown_to_html
from service.core.urls import absolute
from service.extensions import db
from service.models import (
    Comment,
    CommentStatus,
    EmailReply,
    Issue,
    ReplyMode,
    ReplyStatus,
    Subscriber,
)
from service.models.base import parse_state, utcnow

CHOICE = "reply-choice"
WITHDRAW = "reply-withdraw"
CHOICE_MAX_AGE = 60 * tokens.DAY
WITHDRAW_MAX_AGE = 180 * tokens.DAY
CHOSEN_PRIVATE = "The reader chose to keep their replies private."


class ReplyLinkError(ValueError):
    """A reply link that cannot be used; the message says why."""


@dataclass(frozen=True)
class ReplyView:
    """What the reader's pages show of one reply (their own text, never an address)."""

    id: int
    status: ReplyStatus
    issue_title: str
    issue_url: str
    body_html: str
    name: str
    reason: str
    held: int  # their replies still waiting for a choice, this one included
    mode: ReplyMode


def choice_link(reply_id: int) -> str:
    return absolute("replies.choose", token=tokens.make(CHOICE, reply_id))


def withdraw_link(reply_id: int) -> str:
    return absolute("replies.withdraw", token=tokens.make(WITHDRAW, reply_id))


def _reply(purpose: str, token: str, max_age: int) -> EmailReply:
    try:
        reply_id = tokens.read(purpose, token, max_age=max_age)
    except tokens.TokenError as exc:
        raise ReplyLinkError(str(exc)) from None
    reply = db.session.get(EmailReply, reply_id) if isinstance(reply_id, int) else None
    if reply is None:
        raise ReplyLinkError("This reply is no longer here.")
    return reply


def _held(subscriber_id: int) -> list[EmailReply]:
    return list(
        db.session.scalars(
            select(EmailReply)
            .where(EmailReply.subscriber_id == subscriber_id, EmailReply.status == ReplyStatus.HELD)
            .order_by(EmailReply.received_at, EmailReply.id)
        )
    )


def view(reply: EmailReply) -> ReplyView:
    issue = fetch(Issue, reply.issue_id)
    sub = fetch(Subscriber, reply.subscriber_id)
    return ReplyView(
        id=reply.id,
        status=reply.status,
        issue_title=issue.title,
        issue_url=absolute("public.issue", slug=issue.slug),
        body_html=comment_markdown_to_html(reply.body_md),
        name=publishing.public_name(sub),
        reason=reply.reason,
        held=len(_held(sub.id)),
        mode=sub.reply_mode,
    )


def choice_target(token: str) -> ReplyView:
    """The reply a publish-or-private link is about (for its page)."""
    return view(_reply(CHOICE, token, CHOICE_MAX_AGE))


def choose(token: str, choice: str, now: datetime | None = None) -> ReplyView:
    """Record the reader's answer and apply it to every reply of theirs still held; commit,
    then enqueue the emails it owes (a receipt per published reply, or why it was refused)."""
    now = now or utcnow()
    reply = _reply(CHOICE, token, CHOICE_MAX_AGE)
    mode = parse_state(ReplyMode, choice)
    if mode not in (ReplyMode.PUBLISH, ReplyMode.PRIVATE):
        raise ReplyLinkError("Choose whether to publish your reply or keep it private.")
    sub = fetch(Subscriber, reply.subscriber_id)
    sub.reply_mode = mode
    for held in _held(sub.id):
        if mode == ReplyMode.PUBLISH:
            publishing.publish(held, sub, now)
        else:
            held.status, held.reason, held.decided_at = ReplyStatus.PRIVATE, CHOSEN_PRIVATE, now
            held.mail, held.mail_due = None, False
    audit.record("subscriber.reply_mode", "subscriber", sub.id, "subscriber", mode=str(mode))
    db.session.flush()
    due = db.session.scalars(
        select(EmailReply.id).where(EmailReply.subscriber_id == sub.id, EmailReply.mail_due)
    ).all()
    result = view(reply)
    db.session.commit()
    for reply_id in due:
        queue.enqueue("replies.send_mail", reply_id)
    return result


def withdraw_target(token: str) -> ReplyView:
    """The reply a withdraw link is about (for its page)."""
    return view(_reply(WITHDRAW, token, WITHDRAW_MAX_AGE))


def withdraw(token: str, now: datetime | None = None) -> ReplyView:
    """Take a published reply back: its comment goes to the trash whether it was still pending
    or already approved (a moderator's spam verdict stays); commit."""
    now = now or utcnow()
    reply = _reply(WITHDRAW, token, WITHDRAW_MAX_AGE)
    if reply.status == ReplyStatus.PUBLISHED:
        if reply.comment_id is not None:
            _trash(reply.comment_id, now)
        reply.status, reply.decided_at = ReplyStatus.WITHDRAWN, now
        audit.record("reply.withdrawn", "email_reply", reply.id, "reader")
    result = view(reply)
    db.session.commit()
    return result


def _trash(comment_id: int, now: datetime) -> None:
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.status not in (CommentStatus.PENDING, CommentStatus.APPROVED):
        return
    changed = db.session.execute(
        update(Comment)
        .where(Comment.id == comment_id, Comment.status == comment.status)
        .values(
            status=CommentStatus.TRASH,
            previous_status=comment.status,
            moderation_due=False,
            decision="withdrawn",
            decision_reasons="withdrawn by its author",
            decided_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if rowcount(changed):
        audit.record("comment.withdrawn", "comment", comment_id, "reader")
