"""Helpers and fixtures for the comment tests: a filled-in form, posting it, what the code enqueues."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from service.comments import guards
from service.core import queue
from service.extensions import db
from service.models import Comment
from service.models.base import utcnow


def form_data(issue, **fields) -> dict:
    """A filled-in comment form, as a person who took half a minute would send it."""
    data = {
        "author": "Rita Reader",
        "email": "rita@example.net",
        "url": "",
        "comment": "A thoughtful point about margins.",
        "stamp": guards.form_stamp(issue.id, now=utcnow() - timedelta(seconds=30)),
    }
    data.update(fields)
    return data


def post_comment(client, issue, **fields):
    return client.post(f"/issues/{issue.slug}/comments", data=form_data(issue, **fields))


def stored() -> list[Comment]:
    db.session.expire_all()
    return db.session.scalars(select(Comment).order_by(Comment.id)).all()


@pytest.fixture
def enqueued(monkeypatch) -> list[tuple]:
    """Tasks the comment code enqueues (other areas' tasks, e.g. deliveries, are left out)."""
    calls: list[tuple] = []

    def record(name, *args, **kwargs):
        if name.startswith(("moderation.", "comments.")):
            calls.append((name, *args))
        return True

    monkeypatch.setattr(queue, "enqueue", record)
    return calls
