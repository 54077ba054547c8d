"""Moderation decisions: the automatic one (rules, then the classifier) and moderators' actions.

The automatic decision is idempotent and fail-safe: it acts only on a comment that is still
pending with moderation_due set (a conditional UPDATE, so a moderator's decision made meanwhile
always wins), and any error in a check holds the comment, never marks it spam. Every moderator
action is one transaction that records an audit event and retrains the classifier.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select, update

from . import audit, classifier, reply_notifications, rules, settings, webhooks
from .avatars import avatar_key
from .extensions import db
from .models import Comment, User
from .models.base import utcnow
from .queue import enqueue
from .rendering import comment_markdown_to_html

log = logging.getLogger(__name__)

ACTIONS = ("approve", "reject", "spam", "notspam", "restore", "delete")
AUTO_STATUS = {"approved": "approved", "held": "pending", "spam": "spam"}


class ModerationError(ValueError):
    """A moderator action that cannot be done; the message says why."""


@dataclass(frozen=True)
class Decision:
    decision: str  # approved, held or spam
    reasons: list[str]
    score: float | None


def decide(comment: Comment) -> Decision:
    """Rules first, then the classifier; any error holds the comment."""
    try:
        found = rules.evaluate(comment)
        result = classifier.score(comment, int(settings.get("moderation.classifier_min_trained")))
        threshold = float(settings.get("moderation.spam_threshold"))
        hold_at = float(settings.get("moderation.hold_threshold"))
        require_known = bool(settings.get("moderation.require_known"))
    except Exception as exc:  # fail safe: a broken check holds, never spams
        log.exception("moderation check failed for comment %s", comment.id)
        db.session.rollback()
        return Decision("held", [f"a check failed ({type(exc).__name__}); held for a moderator"],
                        None)
    score = result.probability
    if found.spam:
        return Decision("spam", found.spam, score)
    if found.hold:
        return Decision("held", found.hold, score)
    if result.trained and threshold < 1 and score >= threshold:
        clues = ", ".join([token for token, p in result.clues if p > 0.5][:5])
        return Decision("spam", [f"classifier spam score {score:.3f} ≥ {threshold:g}"
                                 + (f" (clues: {clues})" if clues else "")], score)
    if result.trained and score >= hold_at:  # uncertain: a moderator decides, known or not
        return Decision("held", [f"classifier spam score {score:.3f} ≥ {hold_at:g} (uncertain)"],
                        score)
    if found.known:
        return Decision("approved", [found.known], score)
    if not require_known:
        return Decision("approved", ["no rule held it"], score)
    note = "first comment from this commenter"
    if not result.trained:
        note += "; the classifier is still learning"
    return Decision("held", [note], score)


def moderate_comment(comment_id: int) -> str | None:
    """Decide one comment automatically; return the decision, or None when there was none due."""
    comment = db.session.get(Comment, comment_id)
    if comment is None or not comment.moderation_due or comment.status != "pending":
        db.session.rollback()
        return None
    posted = webhooks.comment_data(comment)  # as the reader sent it, before the decision
    result = decide(comment)
    status = AUTO_STATUS[result.decision]
    changed = db.session.execute(
        update(Comment)
        .where(Comment.id == comment_id, Comment.moderation_due.is_(True),
               Comment.status == "pending")
        .values(status=status, decision=result.decision,
                decision_reasons="; ".join(result.reasons), spam_score=result.score,
                moderation_due=False, previous_status="pending" if status == "spam" else None,
                decided_at=utcnow() if status != "pending" else None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:  # a moderator (or another worker) got there first
        db.session.rollback()
        return None
    audit.record(f"comment.auto_{result.decision}", "comment", comment_id, actor="moderation",
                 reasons=result.reasons, score=result.score)
    webhooks.emit("comment.posted", posted)  # once: only the run that made the decision
    optins = []
    if status == "approved":
        approved = db.session.get(Comment, comment_id)
        webhooks.emit("comment.approved", webhooks.comment_data(approved))
        optins = _prepare_optins([approved])
    db.session.commit()
    if status == "approved":
        enqueue("comments.notify_replies", comment_id)
        _send_optins(optins)
    elif result.decision == "held":
        enqueue("moderation.notify_moderators")
    return result.decision


# --- moderators' actions -------------------------------------------------------------------

def _label(status: str, action: str) -> str | None:
    """What the classifier should learn from a comment in this state."""
    if status == "spam":
        return "spam"
    if status == "approved" or action == "notspam":
        return "ham"
    return None


def _target(comment: Comment, action: str) -> str | None:
    """The status `action` moves the comment to (None: nothing to do)."""
    old = comment.status
    back = comment.previous_status if comment.previous_status in ("pending", "approved") \
        else "pending"
    target = {"approve": "approved", "reject": "trash", "spam": "spam",
              "notspam": back if old == "spam" else None,
              "restore": back if old == "trash" else None}[action]
    return None if target == old else target


def _apply(comment: Comment, action: str, actor: str) -> bool:
    """Apply one action in the current transaction; True when something changed."""
    if action == "delete":
        classifier.learn(comment, None)
        audit.record("comment.deleted", "comment", comment.id, actor=actor,
                     status=comment.status, author=comment.author_name,
                     excerpt=(comment.body_md or "")[:200])
        db.session.delete(comment)
        return True
    target = _target(comment, action)
    if target is None:
        return False
    old = comment.status
    if comment.moderation_due:  # decided before the feed got to it: the event is still owed
        webhooks.emit("comment.posted", webhooks.comment_data(comment))
    comment.previous_status = old if target in ("spam", "trash") else None
    comment.status, comment.moderation_due, comment.decided_at = target, False, utcnow()
    classifier.learn(comment, _label(target, action))
    audit.record(f"comment.{action}", "comment", comment.id, actor=actor,
                 from_status=old, to_status=target)
    if target == "approved":
        webhooks.emit("comment.approved", webhooks.comment_data(comment))
    return True


def _prepare_optins(approved: list[Comment]) -> list[int]:
    """Record reply opt-ins of newly approved comments (only approved ones ever get the email)."""
    ids = []
    for comment in approved:
        if not comment.notify_replies or not comment.author_email or comment.is_author_reply:
            continue
        if (optin := reply_notifications.prepare_optin(comment.author_email)) is not None:
            ids.append(optin)
    return ids


def _send_optins(optin_ids: list[int]) -> None:
    """After the commit: enqueue the confirmation emails (a lost one is swept up)."""
    for optin_id in dict.fromkeys(optin_ids):
        enqueue("comments.send_reply_optin", optin_id)


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
        query = query.where(Comment.status == "pending").with_for_update()
    for comment in db.session.scalars(query):
        if _apply(comment, action, actor):
            changed.append(comment.id)
            if action != "delete" and comment.status == "approved":
                approved.append(comment)
    optins = _prepare_optins(approved)
    approved_ids = [comment.id for comment in approved]
    db.session.commit()
    for comment_id in approved_ids:
        enqueue("comments.notify_replies", comment_id)
    _send_optins(optins)
    return changed


def decided_by(comment_id: int) -> str:
    """Who made the latest decision on a comment, from the audit log ('' when unknown)."""
    from .models import Event

    actor = db.session.scalar(
        select(Event.actor).where(Event.subject_type == "comment", Event.subject_id == comment_id,
                                  Event.action.like("comment.%"))
        .order_by(Event.id.desc()).limit(1))
    return actor or ""


def _get(comment_id: int) -> Comment:
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        raise ModerationError("That comment no longer exists.")
    return comment


def _checked_email(email: str) -> str:
    """The address normalised as comment posting does it (email-validator), or ModerationError."""
    if not email:
        return ""
    from .comments import _clean_email  # the same check readers' comments pass

    try:
        return _clean_email(email)
    except ValueError as exc:
        raise ModerationError(str(exc)) from None


def edit(comment_id: int, actor: str, name: str, email: str, url: str, body: str) -> Comment:
    """Change a comment's text or author fields (re-rendered, retrained)."""
    comment = _get(comment_id)
    name, email, url, body = name.strip(), email.strip(), url.strip(), body.strip()
    if not name or not body:
        raise ModerationError("A comment needs a name and a body.")
    if any(ord(ch) < 32 for ch in name + email + url):
        raise ModerationError("Names, emails and websites may not contain control characters.")
    email = _checked_email(email)
    old_features = classifier.tokens(comment)
    before = {"name": comment.author_name, "email": comment.author_email,
              "website": comment.author_url, "body": comment.body_md}
    comment.author_name, comment.author_email = name[:245], email[:100]
    comment.author_url = url[:200]
    comment.body_md, comment.body_html = body, comment_markdown_to_html(body)
    if email != before["email"]:
        comment.avatar_key = avatar_key(email)
    after = {"name": name, "email": email, "website": url, "body": body}
    mark = db.session.get(classifier.ClassifierTraining, comment.id)
    classifier.learn(comment, mark.label if mark else None, old_features)
    audit.record("comment.edited", "comment", comment.id, actor=actor,
                 fields=[k for k in after if after[k] != before[k]])
    db.session.commit()
    return comment


def reply_as_author(parent_id: int, user: User, body: str) -> Comment:
    """Post a staff reply, approved at once and marked as the author's (approving the parent)."""
    parent = _get(parent_id)
    if not body.strip():
        raise ModerationError("The reply is empty.")
    if parent.status in ("spam", "trash"):
        raise ModerationError("Restore the comment before replying to it.")
    actor = user.email
    parent_approved = _apply(parent, "approve", actor) if parent.status == "pending" else False
    reply = Comment(issue_id=parent.issue_id, parent_id=parent.id,
                    author_name=user.name or "Author",
                    author_email=user.email, avatar_key=avatar_key(user.email),
                    body_md=body.strip(), body_html=comment_markdown_to_html(body.strip()),
                    status="approved", is_author_reply=True, decision="approved",
                    decision_reasons="reply by staff", decided_at=utcnow())
    db.session.add(reply)
    db.session.flush()
    audit.record("comment.author_reply", "comment", reply.id, actor=actor, parent=parent.id)
    webhooks.emit("comment.approved", webhooks.comment_data(reply))
    optins = _prepare_optins([parent]) if parent_approved else []
    db.session.commit()
    if parent_approved:
        enqueue("comments.notify_replies", parent.id)
        _send_optins(optins)
    enqueue("comments.notify_replies", reply.id)
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
