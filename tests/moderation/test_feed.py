"""The moderation feed: due comments are claimed once, re-claimed after a lost task, handed back
when the broker is down, and split between feeds that poll at the same moment."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from service.core import queue
from service.extensions import db
from service.models import Comment
from service.models.base import utcnow
from service.moderation import feed
from tests.factories import make_comment, make_issue


@pytest.fixture
def issue(app):
    return make_issue("Fed")


def _due(issue, n: int) -> list[int]:
    return [
        make_comment(issue, status="pending", moderation_due=True, body=f"Comment {i}").id
        for i in range(n)
    ]


@pytest.fixture
def sent(monkeypatch) -> list[tuple]:
    calls: list[tuple] = []
    monkeypatch.setattr(
        queue, "enqueue", lambda name, *args, **kw: calls.append((name, *args)) or True
    )
    return calls


def test_only_due_comments_are_claimed_oldest_first_and_only_once(issue):
    make_comment(issue, status="approved", body="Decided long ago")
    make_comment(issue, status="pending", moderation_due=False, body="Held for a moderator")
    ids = _due(issue, 3)
    assert feed.claim(limit=2) == ids[:2]
    assert feed.claim() == ids[2:]
    assert feed.claim() == []


def test_a_claim_whose_task_was_lost_is_taken_again_after_the_lease(issue):
    ids = _due(issue, 2)
    assert feed.claim(lease_seconds=60) == ids
    later = utcnow() + timedelta(seconds=30)
    assert feed.claim(lease_seconds=60, now=later) == []  # still held
    later = utcnow() + timedelta(seconds=61)
    assert feed.claim(lease_seconds=60, now=later) == ids


def test_dispatch_enqueues_one_task_per_claimed_comment(issue, sent):
    ids = _due(issue, 3)
    assert feed.dispatch() == 3
    assert sent == [("moderation.moderate_comment", i) for i in ids]
    assert feed.dispatch() == 0 and len(sent) == 3


def test_a_decided_comment_is_never_claimed_even_when_its_lease_ran_out(issue, sent):
    (comment_id,) = _due(issue, 1)
    assert feed.claim() == [comment_id]
    comment = db.session.get(Comment, comment_id)
    comment.moderation_due, comment.status = False, "approved"  # the task ran
    db.session.commit()
    assert feed.claim(now=utcnow() + timedelta(hours=1)) == []


def test_when_the_broker_is_down_the_claims_are_handed_back(issue, monkeypatch):
    ids = _due(issue, 3)
    accepted = iter([True, False])  # the broker takes one task, then goes away
    monkeypatch.setattr(queue, "enqueue", lambda *args, **kw: next(accepted, False))
    with pytest.raises(feed.BrokerUnavailable, match="2 comment"):
        feed.dispatch()
    db.session.expire_all()
    claimed = {c.id: c.moderation_claimed_at for c in db.session.query(Comment).all()}
    assert claimed[ids[0]] is not None  # its task went out
    assert claimed[ids[1]] is None and claimed[ids[2]] is None  # free for the next poll
    assert feed.claim() == ids[1:]


def test_feeds_polling_at_once_split_the_due_comments(app, issue):
    ids = _due(issue, 60)
    db.session.remove()
    taken: list[list[int]] = []
    start = threading.Barrier(3)

    def one_feed():
        with app.app_context():
            start.wait()
            mine = []
            while batch := feed.claim(limit=7):
                mine += batch
            taken.append(mine)

    threads = [threading.Thread(target=one_feed) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    every = [i for mine in taken for i in mine]
    assert len(taken) == 3
    assert sorted(every) == ids  # each comment claimed exactly once
