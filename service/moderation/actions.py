"""Moderators' actions: approve, reject, spam, not spam, restore, delete (one or in bulk), edit,
reply as the author, ban.

Every action is one transaction that records an audit event and retrains the classifier; what
follows an approval (reply notifications, reply opt-ins) is enqueued after the commit.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from service.comments import reply_consent
from service.comments.avatars import avatar_key
from service.comments.signals import comment_approved, comment_posted
from service.comments.validation import clean_email
from service.core import audit, queue, settings
from service.core.addresses import has_control
from service.core.rendering import comment_markdown_to_html
from service.extensions import db
from service.models import Comment, CommentStatus, Event, User
from service.models.base import utcnow
from service.moderation import classifier

log = logging.getLogger(__name__)

ACTIONS = ("approve", "reject", "spam", "notspam", "restore", "delete")
PENDING = CommentStatus.PENDING
_RESTORABLE = (CommentStatus.PENDING, CommentStatus.APPROVED)  # where spam and trash go back to
_SET_ASIDE = (CommentStatus.SPAM, CommentStatus.TRASH)


class ModerationError(ValueError):
    """A moderator action that cannot be done; the message says why."""


# --- moderators' actions -------------------------------------------------------------------


def _label(status: CommentStatus, action: str) -> str | None:
    """What the classifier should learn from a comment in this state."""
    if status == CommentStatus.SPAM:
        return "spam"
    if status == CommentStatus.APPROVED or action == "notspam":
        return "ham"
    return None


def _target(comment: Comment, action: str) -> CommentStatus | None:
    """The status `action` moves the comment to (None: nothing to do)."""
    old = comment.status
    back = comment.previous_status if comment.previous_status in _RESTORABLE else PENDING
    target = {
        "approve": CommentStatus.APPROVED,
        "reject": CommentStatus.TRASH,
        "spam": CommentStatus.SPAM,
        "notspam": back if old == CommentStatus.SPAM else None,
        "restore": back if old == CommentStatus.TRASH else None,
    }[action]
    return None if target == old else target


def _apply(comment: Comment, action: str, actor: str) -> bool:
    """Apply one action in the current transaction; True when something changed."""
    if action == "delete":
        classifier.learn(comment, None)
        audit.record(
            "comment.deleted",
            "comment",
            comment.id,
            actor=actor,
            status=comment.status,
            author=comment.author_name,
            excerpt=(comment.body_md or "")[:200],
        )
        db.session.delete(comment)
        return True
    target = _target(comment, action)
    if target is None:
        return False
    old = comment.status
    if comment.moderation_due:  # decided before the feed got to it: the event is still owed
        comment_posted.send(comment, status=comment.status)
    comment.previous_status = old if target in _SET_ASIDE else None
    comment.status, comment.moderation_due, comment.decided_at = target, False, utcnow()
    classifier.learn(comment, _label(target, action))
    audit.record(
        f"comment.{action}", "comment", comment.id, actor=actor, from_status=old, to_status=target
    )
    if target == CommentStatus.APPROVED:
        comment_approved.send(comment)
    return True


def act(action: str, comment_ids: list[int], actor: str, only_pending: bool = False) -> list[int]:
    """Apply a moderator action to comments in one transaction; return the ids it changed.

    only_pending: act only on comments still pending (rows locked), as a one-click email link
    does, so it never overrides a decision someone made since the email went out.
    """
    if action not in ACTIONS:
        raise ModerationError(f"unknown action {action!r}")
    changed, approved = [], []
    query = select(Comment).where(Comment.id.in_(comment_ids))
    if only_pending:
        query = query.where(Comment.status == PENDING).with_for_update()
    for comment in db.session.scalars(query):
        if _apply(comment, action, actor):
            changed.append(comment.id)
            if action != "delete" and comment.status == CommentStatus.APPROVED:
                approved.append(comment)
    optins = reply_consent.prepare_for(approved)
    approved_ids = [comment.id for comment in approved]
    db.session.commit()
    for comment_id in approved_ids:
        queue.enqueue("comments.notify_replies", comment_id)
    reply_consent.enqueue_optins(optins)
    return changed


def decided_by(comment_id: int) -> str:
    """Who made the latest decision on a comment, from the audit log ('' when unknown)."""
    actor = db.session.scalar(
        select(Event.actor)
        .where(
            Event.subject_type == "comment",
            Event.subject_id == comment_id,
            Event.action.like("comment.%"),
        )
        .order_by(Event.id.desc())
        .limit(1)
    )
    return actor or ""


def _get(comment_id: int) -> Comment:
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        raise ModerationError("That comment no longer exists.")
    return comment


def _checked_email(email: str) -> str:
    """The address normalised as comment posting does it, or ModerationError."""
    if not email:
        return ""
    try:
        return clean_email(email)
    except ValueError as exc:
        raise ModerationError(str(exc)) from None


def edit(comment_id: int, actor: str, name: str, email: str, url: str, body: str) -> Comment:
    """Change a comment's text or author fields (re-rendered, retrained)."""
    comment = _get(comment_id)
    name, email, url, body = name.strip(), email.strip(), url.strip(), body.strip()
    if not name or not body:
        raise ModerationError("A comment needs a name and a body.")
    if has_control(name + email + url):
        raise ModerationError("Names, emails and websites may not contain control characters.")
    email = _checked_email(email)
    old_features = classifier.tokens(comment)
    before = {
        "name": comment.author_name,
        "email": comment.author_email,
        "website": comment.author_url,
        "body": comment.body_md,
    }
    comment.author_name, comment.author_email = name[:245], email[:100]
    comment.author_url = url[:200]
    comment.body_md, comment.body_html = body, comment_markdown_to_html(body)
    if email != before["email"]:
        comment.avatar_key = avatar_key(email)
    after = {"name": name, "email": email, "website": url, "body": body}
    mark = db.session.get(classifier.ClassifierTraining, comment.id)
    classifier.learn(comment, mark.label if mark else None, old_features)
    audit.record(
        "comment.edited",
        "comment",
        comment.id,
        actor=actor,
        fields=[k for k in after if after[k] != before[k]],
    )
    db.session.commit()
    return comment


def reply_as_author(parent_id: int, user: User, body: str) -> Comment:
    """Post a staff reply, approved at once and marked as the author's (approving the parent)."""
    parent = _get(parent_id)
    if not body.strip():
        raise ModerationError("The reply is empty.")
    if parent.status in _SET_ASIDE:
        raise ModerationError("Restore the comment before replying to it.")
    actor = user.email
    parent_approved = _apply(parent, "approve", actor) if parent.status == PENDING else False
    reply = Comment(
        issue_id=parent.issue_id,
        parent_id=parent.id,
        author_name=user.name or "Author",
        author_email=user.email,
        avatar_key=avatar_key(user.email),
        body_md=body.strip(),
        body_html=comment_markdown_to_html(body.strip()),
        status=CommentStatus.APPROVED,
        is_author_reply=True,
        decision="approved",
        decision_reasons="reply by staff",
        decided_at=utcnow(),
    )
    db.session.add(reply)
    db.session.flush()
    audit.record("comment.author_reply", "comment", reply.id, actor=actor, parent=parent.id)
    comment_approved.send(reply)
    optins = reply_consent.prepare_for([parent]) if parent_approved else []
    db.session.commit()
    if parent_approved:
        queue.enqueue("comments.notify_replies", parent.id)
        reply_consent.enqueue_optins(optins)
    queue.enqueue("comments.notify_replies", reply.id)
    return reply


def _add_to_list(key: str, value: str) -> bool:
    values = list(settings.get(key) or [])
    if not value or value.lower() in (v.lower() for v in values):
        return False
    settings.put(key, values + [value])
    return True


def ban(comment_id: int, actor: str, email: bool = True, ip: bool = True) -> list[str]:
    """Ban the comment's email and/or IP, and mark the comment spam; return what was banned."""
    comment = _get(comment_id)
    banned = []
    if email and _add_to_list("moderation.banned_emails", comment.author_email.strip().lower()):
        banned.append(comment.author_email.strip().lower())
    if ip and _add_to_list("moderation.banned_ips", comment.author_ip.strip()):
        banned.append(comment.author_ip.strip())
    audit.record("commenter.banned", "comment", comment.id, actor=actor, banned=banned)
    _apply(comment, "spam", actor)
    db.session.commit()
    return banned
