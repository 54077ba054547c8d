"""Factories for rows, with sensible defaults."""

from __future__ import annotations

from datetime import timedelta
from itertools import count

from service.comments.avatars import avatar_key
from service.core.rendering import comment_markdown_to_html
from service.extensions import db
from service.models import Comment
from service.models.base import utcnow
from service.publishing import scheduling, writing

_n = count(1)


def make_issue(
    title: str | None = None,
    body: str = "A paragraph about *writing*.",
    category: str = "Essays",
    author: str = "Ann Author",
    publish: bool = True,
    days_ago: float | None = None,
    comments_open: bool = True,
):
    """Create an issue; published (optionally back-dated) unless publish=False."""
    title = title or f"Issue title {next(_n)}"
    issue = writing.create_draft(title, body, author, category, comments_open=comments_open)
    db.session.commit()
    if publish:
        when = utcnow() - timedelta(days=days_ago) if days_ago is not None else None
        scheduling.publish(issue.id, when=when)
    return issue


def make_comment(
    issue,
    body: str = "A thoughtful reply.",
    name: str = "Rita Reader",
    email: str = "rita@example.net",
    status: str = "approved",
    parent=None,
    minutes_ago: float = 0,
    **fields,
):
    comment = Comment(
        issue_id=issue.id,
        parent_id=parent.id if parent else None,
        author_name=name,
        author_email=email,
        avatar_key=avatar_key(email),
        body_md=body,
        body_html=comment_markdown_to_html(body),
        status=status,
        created_at=utcnow() - timedelta(minutes=minutes_ago),
        **fields,
    )
    db.session.add(comment)
    db.session.commit()
    return comment
