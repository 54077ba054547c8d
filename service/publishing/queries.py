"""The public queries over issues: the archive, one issue, its neighbours, a post's target."""

from __future__ import annotations

from flask import has_app_context
from sqlalchemy import Row, bindparam, event, select
from sqlalchemy.orm import Session

from service.core import recent
from service.extensions import db
from service.models import Issue, IssueStatus


def published_issues():
    """A select() of the public issues, newest first."""
    return (
        select(Issue)
        .where(Issue.status == IssueStatus.PUBLISHED)
        .order_by(Issue.published_at.desc(), Issue.id.desc())
    )


_PUBLIC = select(Issue).where(
    Issue.slug == bindparam("slug"), Issue.status == IssueStatus.PUBLISHED
)


def public_issue(slug: str) -> Issue | None:
    return db.session.scalar(_PUBLIC, {"slug": slug})


#: What a comment post needs to know of its issue (a row with these names), not the essay.
IssueRef = Row
_COMMENTABLE = select(
    Issue.id, Issue.slug, Issue.title, Issue.status, Issue.comments_open, Issue.published_at
).where(Issue.slug == bindparam("slug"), Issue.status == IssueStatus.PUBLISHED)


def commentable_issue(slug: str) -> IssueRef | None:
    """The published issue at `slug` as an IssueRef (None when there is none), from this
    process's copy when under 2 s old: the comment insert checks again that the issue is
    published and open (service/comments.py), so a stale copy cannot let a post through."""
    return recent.get(
        f"issue:{slug}",
        lambda: db.session.connection().execute(_COMMENTABLE, {"slug": slug}).first(),
        keep=lambda ref: ref is not None,
    )


# The issue page's statements, built once with bound parameters (page views are the hot path).
_AT = bindparam("at", type_=Issue.published_at.type)
_ID = bindparam("id", type_=Issue.id.type)
_OLDER = (
    select(Issue.id, Issue.slug, Issue.title)
    .where(
        Issue.status == IssueStatus.PUBLISHED,
        Issue.id != _ID,
        Issue.published_at <= _AT,
        (Issue.published_at < _AT) | (Issue.id < _ID),
    )
    .order_by(Issue.published_at.desc(), Issue.id.desc())
    .limit(1)
)
_NEWER = (
    select(Issue.id, Issue.slug, Issue.title)
    .where(
        Issue.status == IssueStatus.PUBLISHED,
        Issue.id != _ID,
        Issue.published_at >= _AT,
        (Issue.published_at > _AT) | (Issue.id > _ID),
    )
    .order_by(Issue.published_at.asc(), Issue.id.asc())
    .limit(1)
)


def neighbours(issue: Issue):
    """The previous (older) and next (newer) published issues: rows of (id, slug, title)."""
    at = {"at": issue.published_at, "id": issue.id}
    connection = db.session.connection()
    return connection.execute(_OLDER, at).first(), connection.execute(_NEWER, at).first()


def _note_issue_changes(session: Session, context) -> None:
    if any(isinstance(row, Issue) for row in (*session.new, *session.dirty, *session.deleted)):
        session.info["issues_changed"] = True


def _forget_issue_copies(session: Session) -> None:
    """This process changed an issue: its copies (slugs, related issues) are dropped at once;
    other processes drop theirs when they age out."""
    if session.info.pop("issues_changed", False) and has_app_context():
        recent.forget()


def init_app() -> None:
    """Drop this process's copies of issue lookups as soon as it changed an issue."""
    for name, listener in (
        ("after_flush", _note_issue_changes),
        ("after_commit", _forget_issue_copies),
    ):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
