"""The automatic decision: rules first, then the classifier, for each comment the feed hands out.

It is idempotent and fail-safe: it acts only on a comment that is still pending with
moderation_due set (a conditional UPDATE, so a moderator's decision made meanwhile always wins),
and any error in a check holds the comment, never marks it spam.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import update

from service.comments import reply_consent
from service.comments.signals import comment_approved, comment_posted
from service.core import audit, queue, settings
from service.core.db import rowcount
from service.extensions import db
from service.models import Comment, CommentStatus
from service.models.base import utcnow
from service.moderation import classifier, rules

log = logging.getLogger(__name__)


class Verdict(StrEnum):
    """The automatic decision: approve, hold for a moderator, or mark spam."""

    APPROVED = "approved"
    HELD = "held"
    SPAM = "spam"


AUTO_STATUS = {
    Verdict.APPROVED: CommentStatus.APPROVED,
    Verdict.HELD: CommentStatus.PENDING,
    Verdict.SPAM: CommentStatus.SPAM,
}


@dataclass(frozen=True)
class Decision:
    decision: Verdict
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
        return Decision(
            Verdict.HELD, [f"a check failed ({type(exc).__name__}); held for a moderator"], None
        )
    score = result.probability
    if found.spam:
        return Decision(Verdict.SPAM, found.spam, score)
    if found.hold:
        return Decision(Verdict.HELD, found.hold, score)
    if result.trained and threshold < 1 and score >= threshold:
        clues = ", ".join([token for token, p in result.clues if p > 0.5][:5])
        return Decision(
            Verdict.SPAM,
            [
                f"classifier spam score {score:.3f} ≥ {threshold:g}"
                + (f" (clues: {clues})" if clues else "")
            ],
            score,
        )
    if result.trained and score >= hold_at:  # uncertain: a moderator decides, known or not
        return Decision(
            Verdict.HELD, [f"classifier spam score {score:.3f} ≥ {hold_at:g} (uncertain)"], score
        )
    if found.known:
        return Decision(Verdict.APPROVED, [found.known], score)
    if not require_known:
        return Decision(Verdict.APPROVED, ["no rule held it"], score)
    note = "first comment from this commenter"
    if not result.trained:
        note += "; the classifier is still learning"
    return Decision(Verdict.HELD, [note], score)


def moderate_comment(comment_id: int) -> Verdict | None:
    """Decide one comment automatically; return the decision, or None when there was none due."""
    comment = db.session.get(Comment, comment_id)
    if comment is None or not comment.moderation_due or comment.status != CommentStatus.PENDING:
        db.session.rollback()
        return None
    result = decide(comment)
    status = AUTO_STATUS[result.decision]
    if not _record(comment_id, status, result):  # a moderator (or another worker) was first
        db.session.rollback()
        return None
    # once, by the run that made the decision; the row was updated without reloading it, so
    # `comment` still holds what the reader sent (status pending)
    comment_posted.send(comment, status=CommentStatus.PENDING)
    optins = []
    if status == CommentStatus.APPROVED:
        comment_approved.send(comment, status=CommentStatus.APPROVED)
        optins = reply_consent.prepare_for([comment])
    db.session.commit()
    if status == CommentStatus.APPROVED:
        queue.enqueue("comments.notify_replies", comment_id)
        reply_consent.enqueue_optins(optins)
    elif result.decision == Verdict.HELD:
        queue.enqueue("moderation.notify_moderators")
    return result.decision


def _record(comment_id: int, status: CommentStatus, result: Decision) -> bool:
    """Write the decision if the comment is still due (a conditional UPDATE) and audit it."""
    changed = db.session.execute(
        update(Comment)
        .where(
            Comment.id == comment_id,
            Comment.moderation_due.is_(True),
            Comment.status == CommentStatus.PENDING,
        )
        .values(
            status=status,
            decision=result.decision,
            decision_reasons="; ".join(result.reasons),
            spam_score=result.score,
            moderation_due=False,
            previous_status=CommentStatus.PENDING if status == CommentStatus.SPAM else None,
            decided_at=utcnow() if status != CommentStatus.PENDING else None,
        )
        .execution_options(synchronize_session=False)
    )
    if rowcount(changed) != 1:
        return False
    audit.record(
        f"comment.auto_{result.decision}",
        "comment",
        comment_id,
        actor="moderation",
        reasons=result.reasons,
        score=result.score,
    )
    return True
