"""Sample content for a fresh `make run`: two short original issues and a conversation."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from service.comments.avatars import avatar_key
from service.core.rendering import comment_markdown_to_html
from service.extensions import db
from service.models import Comment, CommentStatus, Issue
from service.models.base import utcnow
from service.publishing import scheduling, writing

AUTHOR, BIO = "Margo Inkwell", "writer, editor, occasional gardener"

ISSUES = [
    (
        "Why I write in the margins",
        "Notes",
        """Every book I love has pencil in it. A question mark beside a claim, a line under a
sentence that landed, a small *yes* where the author said what I had been trying to say.

This newsletter is those margins, collected. Once a week or so I will send one essay: short,
finished, and written for people who read to the end.

## What to expect

- One issue at a time, numbered, kept in the [archive](/archive).
- Comments under every issue, read by a person before they appear.
- No tracking pixels. If you want to know whether I read your reply, write one.

> A margin is the only part of a page that belongs to the reader.

Thank you for being here.
""",
    ),
    (
        "The slow inbox",
        "Notes",
        """Most of what arrives in an inbox asks for something: a click, a reply, a decision
before Friday. A newsletter can be the exception.

I would like this one to be the email you keep for the evening. So the rules I set myself
are simple:

1. Send only when there is something worth reading.
2. Make every issue readable in the time it takes to finish a cup of tea.
3. Make leaving as easy as arriving: **one click**, no questions asked.

If you prefer a weekly digest to an email per issue, the preferences link at the bottom of
every message changes that in a moment.
""",
    ),
]

COMMENTS = [
    (
        "Tomas Reyes",
        "tomas@example.org",
        (
            "This is the first newsletter I have read to the end "
            "this month. The *margin* line is going on a sticky "
            "note."
        ),
    ),
    (AUTHOR, "", "Thank you, Tomas. Sticky notes are margins too."),
]


def load() -> bool:
    """Add the sample issues when the database has none; return whether it did."""
    if db.session.scalar(select(Issue.id).limit(1)) is not None:
        return False
    start = utcnow() - timedelta(days=9)
    issues = []
    for offset, (title, category, body) in enumerate(ISSUES):
        issue = writing.create_draft(title, body, AUTHOR, category, bio=BIO)
        issue.published_at = start + timedelta(days=7 * offset)
        issues.append(issue)
        scheduling.publish(issue.id, actor="sample")
    parent = None
    for index, (name, email, body) in enumerate(COMMENTS):
        comment = Comment(
            issue_id=issues[0].id,
            parent_id=parent,
            author_name=name,
            author_email=email,
            avatar_key=avatar_key(email or name),
            body_md=body,
            body_html=comment_markdown_to_html(body),
            status=CommentStatus.APPROVED,
            decision="sample",
            is_author_reply=not email,
            created_at=start + timedelta(hours=5 + index * 3),
        )
        db.session.add(comment)
        db.session.flush()
        parent = comment.id
    db.session.commit()
    return True
