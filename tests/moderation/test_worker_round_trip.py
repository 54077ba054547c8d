"""A real Celery worker on the embedded broker moderates comments; its feed finds due ones."""

from __future__ import annotations

import pytest

from service.core.queue import enqueue
from service.extensions import db
from service.models import Comment
from tests.factories import make_comment, make_issue
from tests.support import processes

# SQLite only: the database file is shared with another process or thread
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def worker(run_worker, smtp):
    return run_worker(SMTP_URL=smtp.url)


def _decided(comment_id: int):
    def check():
        db.session.expire_all()
        comment = db.session.get(Comment, comment_id)
        db.session.rollback()
        return comment.decision if not comment.moderation_due else None

    return check


@pytest.mark.slow
def test_the_worker_decides_an_enqueued_comment_and_emails_moderators(app, worker, moderator, smtp):
    issue = make_issue("Worker moderation")
    comment = make_comment(issue, status="pending", moderation_due=True, body="Hello there")
    assert enqueue("moderation.moderate_comment", comment.id)
    decision = processes.wait_for(
        _decided(comment.id), timeout=60, what="the worker to moderate the comment"
    )
    assert decision == "held"
    assert "first comment" in db.session.get(Comment, comment.id).decision_reasons
    processes.wait_for(
        lambda: smtp.sink.to("bob@example.com"), timeout=60, what="the moderator's email"
    )
    assert "awaiting moderation" in smtp.sink.to("bob@example.com")[0]["Subject"]


@pytest.mark.slow
def test_the_feed_moderates_a_due_comment_that_nobody_enqueued(app, worker):
    issue = make_issue("Only a row")
    make_comment(issue, status="approved", author_token="known")
    comment = make_comment(
        issue,
        status="pending",
        moderation_due=True,
        body="Back again",
        author_token="known",
    )  # stored as a post stores it: no message sent
    decision = processes.wait_for(
        _decided(comment.id), timeout=30, what="the worker's feed to get the comment moderated"
    )
    assert decision == "approved"
    assert db.session.get(Comment, comment.id).status == "approved"
