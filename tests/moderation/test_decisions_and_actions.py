"""The automatic decision and moderators' actions: idempotent, fail-safe, audited, learning."""

from __future__ import annotations

import pytest

from service.core import queue, settings
from service.extensions import db
from service.models import ClassifierTraining, Comment, Event
from service.moderation import actions, classifier, decisions
from tests.factories import make_comment, make_issue

SPAMMY = "Buy cheap pills online now at the best price pharmacy"


@pytest.fixture
def issue(app):
    return make_issue("Moderated")


def _pending(issue, **fields) -> Comment:
    fields.setdefault("body", "A fair point about hiring.")
    return make_comment(issue, status="pending", moderation_due=True, **fields)


def _fresh(comment_id: int) -> Comment:
    db.session.expire_all()
    return db.session.get(Comment, comment_id)


def _events(action: str) -> int:
    return db.session.query(Event).filter_by(action=action).count()


def _train_spam(issue, n=3):
    for i in range(n):
        classifier.learn(make_comment(issue, status="spam", body=f"{SPAMMY} {i}"), "spam")
    for i in range(n):
        classifier.learn(make_comment(issue, body=f"Thoughtful reply about essays {i}"), "ham")
    db.session.commit()


def test_a_first_comment_is_held_with_its_reasons(issue):
    comment = _pending(issue)
    assert decisions.moderate_comment(comment.id) == "held"
    fresh = _fresh(comment.id)
    assert fresh.status == "pending" and not fresh.moderation_due
    assert fresh.decision == "held" and "first comment" in fresh.decision_reasons
    assert fresh.spam_score is not None
    assert _events("comment.auto_held") == 1


def test_a_known_commenter_is_approved_automatically(issue):
    make_comment(issue, status="approved", author_token="tok")
    comment = _pending(issue, author_token="tok")
    assert decisions.moderate_comment(comment.id) == "approved"
    fresh = _fresh(comment.id)
    assert fresh.status == "approved" and fresh.decided_at is not None


def test_without_require_known_clean_comments_are_approved(issue):
    settings.put("moderation.require_known", False)
    db.session.commit()
    assert decisions.moderate_comment(_pending(issue).id) == "approved"


def test_disallowed_words_mark_spam_and_remember_pending(issue):
    settings.put("moderation.disallowed_words", ["pills"])
    db.session.commit()
    comment = _pending(issue, body=SPAMMY)
    assert decisions.moderate_comment(comment.id) == "spam"
    fresh = _fresh(comment.id)
    assert (fresh.status, fresh.previous_status) == ("spam", "pending")
    assert "disallowed word “pills” in body" in fresh.decision_reasons


def test_the_classifier_marks_spam_only_when_trained_and_above_the_threshold(issue):
    _train_spam(issue)
    settings.put("moderation.classifier_min_trained", 3)
    settings.put("moderation.spam_threshold", 0.9)
    db.session.commit()
    spam = _pending(issue, body=SPAMMY)
    assert decisions.moderate_comment(spam.id) == "spam"
    assert "classifier spam score" in _fresh(spam.id).decision_reasons
    settings.put("moderation.classifier_min_trained", 50)
    db.session.commit()
    assert decisions.moderate_comment(_pending(issue, body=SPAMMY).id) == "held"


def test_the_classifier_never_approves_by_itself(issue):
    _train_spam(issue)
    settings.put("moderation.classifier_min_trained", 3)
    db.session.commit()
    comment = _pending(issue, body="Thoughtful reply about essays")
    assert decisions.moderate_comment(comment.id) == "held"
    assert _fresh(comment.id).spam_score < 0.5


def test_running_the_task_twice_changes_nothing_the_second_time(issue):
    comment = _pending(issue)
    assert decisions.moderate_comment(comment.id) == "held"
    before = _fresh(comment.id).decision_reasons
    assert decisions.moderate_comment(comment.id) is None
    assert _fresh(comment.id).decision_reasons == before
    events = db.session.query(Event).filter_by(subject_type="comment", subject_id=comment.id)
    assert events.count() == 1


def test_a_late_task_never_overrides_a_moderator(issue):
    settings.put("moderation.disallowed_words", ["pills"])
    db.session.commit()
    comment = _pending(issue, body=SPAMMY)
    actions.act("approve", [comment.id], "bob@example.com")
    assert decisions.moderate_comment(comment.id) is None
    fresh = _fresh(comment.id)
    assert fresh.status == "approved" and fresh.decision == ""


def test_any_error_in_a_check_holds_never_spams(issue, monkeypatch):
    settings.put("moderation.disallowed_words", ["pills"])
    db.session.commit()

    def broken(comment, min_trained=10):
        raise RuntimeError("model unreadable")

    monkeypatch.setattr(classifier, "score", broken)
    comment = _pending(issue, body=SPAMMY)
    assert decisions.moderate_comment(comment.id) == "held"
    assert "a check failed (RuntimeError)" in _fresh(comment.id).decision_reasons


def test_approve_trains_ham_and_spam_trains_spam_and_each_is_audited(issue):
    comment = _pending(issue, body="Kind words about essays")
    actions.act("approve", [comment.id], "bob@example.com")
    assert db.session.get(ClassifierTraining, comment.id).label == "ham"
    actions.act("spam", [comment.id], "bob@example.com")
    fresh = _fresh(comment.id)
    assert (fresh.status, fresh.previous_status) == ("spam", "approved")
    assert db.session.get(ClassifierTraining, comment.id).label == "spam"
    assert classifier.stats() == (1, 0)
    events = db.session.query(Event).filter_by(subject_type="comment", subject_id=comment.id)
    actors = {e.actor for e in events}
    assert actors == {"bob@example.com"}


def test_not_spam_and_restore_return_to_the_previous_state(issue):
    comment = make_comment(issue, status="approved")
    actions.act("spam", [comment.id], "bob@example.com")
    actions.act("notspam", [comment.id], "bob@example.com")
    assert _fresh(comment.id).status == "approved"
    actions.act("reject", [comment.id], "bob@example.com")
    assert _fresh(comment.id).status == "trash"
    assert db.session.get(ClassifierTraining, comment.id) is None
    actions.act("restore", [comment.id], "bob@example.com")
    assert _fresh(comment.id).status == "approved"


def test_the_same_action_twice_is_recorded_once(issue):
    comment = _pending(issue)
    assert actions.act("approve", [comment.id], "bob@example.com") == [comment.id]
    assert actions.act("approve", [comment.id], "bob@example.com") == []
    assert _events("comment.approve") == 1


def test_delete_removes_the_comment_and_its_training(issue):
    comment = _pending(issue, body="Spam spam")
    actions.act("spam", [comment.id], "bob@example.com")
    actions.act("delete", [comment.id], "bob@example.com")
    assert _fresh(comment.id) is None
    assert classifier.stats() == (0, 0)
    assert _events("comment.deleted") == 1


def test_edit_rerenders_and_retrains(issue):
    comment = make_comment(issue, body="Old words")
    classifier.learn(comment, "ham")
    db.session.commit()
    actions.edit(
        comment.id,
        "bob@example.com",
        "Rita",
        "rita@example.net",
        "",
        "New *words* <script>x</script>",
    )
    fresh = _fresh(comment.id)
    assert "<em>words</em>" in fresh.body_html and "<script" not in fresh.body_html
    from service.models import ClassifierToken

    assert db.session.get(ClassifierToken, "old").ham == 0
    assert db.session.get(ClassifierToken, "new").ham == 1
    with pytest.raises(actions.ModerationError):
        actions.edit(comment.id, "bob", "Evil\r\nBcc: x", "a@b.c", "", "text")


def test_reply_as_author_is_approved_and_approves_the_parent(issue, moderator):
    parent = _pending(issue)
    reply = actions.reply_as_author(parent.id, moderator, "Thanks, *Rita*.")
    assert _fresh(parent.id).status == "approved"
    fresh = _fresh(reply.id)
    assert fresh.status == "approved" and fresh.is_author_reply and fresh.parent_id == parent.id


def test_ban_adds_email_and_ip_and_future_comments_are_spam(issue):
    comment = _pending(issue, email="troll@example.org", author_ip="198.51.100.4")
    assert actions.ban(comment.id, "bob@example.com") == ["troll@example.org", "198.51.100.4"]
    assert _fresh(comment.id).status == "spam"
    again = _pending(issue, email="other@example.org", author_ip="198.51.100.4")
    assert decisions.moderate_comment(again.id) == "spam"


def test_approval_and_holding_enqueue_what_follows_after_the_commit(issue, monkeypatch):
    sent = []

    def record(name, *args, **kwargs):
        # the comment's new state is already committed when the task is sent
        db.session.expire_all()
        sent.append((name, args, db.session.get(Comment, args[0]).status if args else None))
        return True

    monkeypatch.setattr(queue, "enqueue", record)
    held = _pending(issue)
    decisions.moderate_comment(held.id)
    actions.act("approve", [held.id], "bob@example.com")
    assert sent == [
        ("moderation.notify_moderators", (), None),
        ("comments.notify_replies", (held.id,), "approved"),
    ]


def test_train_from_history_learns_existing_decisions_once(issue, runner):
    make_comment(issue, status="approved", body="An imported thoughtful reply")
    make_comment(issue, status="spam", body="cheap pills")
    make_comment(issue, status="pending", body="not decided")
    result = runner.invoke(args=["train-classifier"])
    assert "Learned 1 spam and 1 approved" in result.output
    assert classifier.train_from_history() == (0, 0)
    assert classifier.stats() == (1, 1)


def test_a_classifier_spam_decision_names_its_clues(issue):
    _train_spam(issue)
    settings.put("moderation.classifier_min_trained", 3)
    db.session.commit()
    comment = _pending(issue, body=SPAMMY)
    decisions.moderate_comment(comment.id)
    assert "clues: " in _fresh(comment.id).decision_reasons


def test_an_uncertain_classifier_score_holds_even_a_known_commenter(issue):
    _train_spam(issue)
    settings.put("moderation.classifier_min_trained", 3)
    settings.put("moderation.spam_threshold", 1.0)  # never spam: the score alone decides holding
    settings.put("moderation.require_known", False)
    db.session.commit()
    make_comment(issue, status="approved", author_token="tok", body="Earlier kind words.")
    comment = _pending(issue, body=SPAMMY, author_token="tok")
    assert decisions.moderate_comment(comment.id) == "held"
    fresh = _fresh(comment.id)
    assert fresh.status == "pending" and "(uncertain)" in fresh.decision_reasons
    settings.put("moderation.hold_threshold", 1.0)  # holding by score switched off
    db.session.commit()
    assert (
        decisions.moderate_comment(_pending(issue, body=SPAMMY + " again", author_token="tok").id)
        == "approved"
    )


def test_edit_refuses_an_invalid_email_or_a_header_injection(issue):
    comment = make_comment(issue, body="Words", email="rita@example.net")
    for bad in (
        "not an address",
        "rita@example.net\r\nBcc: all@example.org",
        "rita@example.net\nBcc: all@example.org",
    ):
        with pytest.raises(actions.ModerationError):
            actions.edit(comment.id, "bob@example.com", "Rita", bad, "", "Words")
    assert _fresh(comment.id).author_email == "rita@example.net"
    actions.edit(comment.id, "bob@example.com", "Rita", "Rita@Example.NET", "", "Words")
    assert _fresh(comment.id).author_email == "rita@example.net"  # normalised like a post
