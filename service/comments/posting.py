"""Accepting a comment: validation, request-time guards, then one insert.

The row (pending, moderation_due) is all a post writes: workers' moderation feeds claim it from
the comments table (moderation/feed.py), so the request never waits on the broker and nothing
can be lost between commit and enqueue. Bot-like posts are stored as spam, never dropped.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, exists, insert, select, union_all

from service.comments import guards
from service.comments.avatars import avatar_key
from service.comments.validation import CommentError, validate
from service.core import audit, settings
from service.core.rendering import comment_markdown_to_html
from service.extensions import db
from service.models import Comment, CommentKind, CommentStatus, Issue, IssueStatus
from service.models.base import utcnow
from service.publishing.queries import IssueRef

CLOSED = "Comments on this entry are closed."
DUPLICATE = "Duplicate comment detected; it looks as though you’ve already said that!"
FLOOD = "You are posting comments too quickly. Slow down."


@dataclass
class Submission:
    """What a reader sent, plus what the request knows about them."""

    issue_id: int
    name: str = ""
    email: str = ""
    url: str = ""
    body: str = ""
    parent_id: int | None = None
    notify_replies: bool = False
    author_token: str = ""
    ip: str = ""
    user_agent: str = ""
    honeypot: str = ""
    stamp: str = ""
    is_staff: bool = False


def new_author_token() -> str:
    """A random id for the commenter's signed cookie ("the same browser as before")."""
    return secrets.token_urlsafe(24)


def closes_at(issue: Issue | IssueRef) -> datetime | None:
    """When an issue's comments close automatically (None: never)."""
    days = int(settings.get("comments.close_after_days") or 0)
    if days <= 0 or issue.published_at is None:
        return None
    return issue.published_at + timedelta(days=days)


def is_open(issue: Issue | IssueRef, now: datetime | None = None) -> bool:
    """Whether readers may comment on `issue` now."""
    if not issue.comments_open or issue.status != IssueStatus.PUBLISHED:
        return False
    closing = closes_at(issue)
    return closing is None or (now or utcnow()) < closing


# The statements a post runs, built once (with bound parameters): building a statement and its
# cache key costs as much as running it. The insert carries WordPress's repeat checks in its
# WHERE NOT EXISTS (same text on the issue from the same email or name; with the flood check on,
# any comment from the same email or IP since `since`), so a normal post is one statement. Each
# check is a UNION ALL of single-index lookups: an OR across columns would let the planner scan
# every comment on the issue instead.
_TABLE = Comment.__table__
_COLUMNS = [
    c for c in _TABLE.c if c.name not in ("id", "spam_score", "source_id", "moderation_claimed_at")
]
_PARENT = select(Comment.id).where(
    Comment.id == bindparam("parent_id"),
    Comment.issue_id == bindparam("issue_id"),
    Comment.status == CommentStatus.APPROVED,
    Comment.kind == CommentKind.COMMENT,
)
_SAME_TEXT = (
    Comment.issue_id == bindparam("issue_id"),
    Comment.body_md == bindparam("body_md"),
    Comment.status != CommentStatus.TRASH,
)
_DUPLICATES = [
    select(Comment.id).where(Comment.author_email == bindparam("author_email"), *_SAME_TEXT),
    select(Comment.id).where(Comment.author_name == bindparam("author_name"), *_SAME_TEXT),
]
_FLOODS = [
    select(Comment.id).where(
        Comment.author_email == bindparam("author_email"), Comment.created_at > bindparam("since")
    ),
    select(Comment.id).where(
        Comment.author_ip == bindparam("author_ip"),
        Comment.author_ip != "",
        Comment.created_at > bindparam("since"),
    ),
]
_DUPLICATE = union_all(*_DUPLICATES).limit(1)


# …and only while the issue is published and open: the insert itself is the authoritative
# check, so the view may work from a copy of the issue that is a moment old.
_OPEN_ISSUE = exists(
    select(Issue.id).where(
        Issue.id == bindparam("issue_id"),
        Issue.status == IssueStatus.PUBLISHED,
        Issue.comments_open.is_(True),
        Issue.published_at > bindparam("opened_after"),
    )
)
_ISSUE_NOW = select(Issue.status, Issue.comments_open, Issue.published_at).where(
    Issue.id == bindparam("issue_id")
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _insert_unless(*repeats):
    values = select(*[bindparam(c.name, type_=c.type) for c in _COLUMNS]).where(
        _OPEN_ISSUE, ~exists(union_all(*repeats))
    )
    return insert(_TABLE).from_select(_COLUMNS, values).returning(_TABLE.c.id)


_INSERT_UNLESS_DUPLICATE = _insert_unless(*_DUPLICATES)
_INSERT_UNLESS_REPEAT = _insert_unless(*_DUPLICATES, *_FLOODS)


def without_transaction() -> None:
    """Run this request's statements in autocommit: a post reads, then writes one INSERT, which
    is atomic by itself, so BEGIN and COMMIT would only add round trips to the database. (When
    the request already opened a transaction, e.g. to load a logged-in author, it stays in it.)"""
    if not db.session().in_transaction():
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def _scalar(statement, params: dict):
    """Run a statement on the session's connection: a post reads and writes rows, not ORM
    objects (that alone is a fifth of a post's CPU)."""
    return db.session.connection().scalar(statement, params)


def _check_parent(issue: IssueRef, parent_id: int | None) -> None:
    if (
        parent_id is not None
        and _scalar(_PARENT, {"parent_id": parent_id, "issue_id": issue.id}) is None
    ):
        raise CommentError("You can only reply to a published comment.", 400)


def _insert(row: dict, now: datetime) -> int:
    """Insert the comment while its issue is open and unless it repeats one (409) or floods
    (429); return its id. One statement: the checks ride in its WHERE."""
    days = int(settings.get("comments.close_after_days") or 0)
    params = {**row, "opened_after": now - timedelta(days=days) if days > 0 else _EPOCH}
    flood_seconds = float(settings.get("comments.flood_seconds"))
    if flood_seconds <= 0:  # the flood check is off
        comment_id = _scalar(_INSERT_UNLESS_DUPLICATE, params)
    else:
        params["since"] = now - timedelta(seconds=flood_seconds)
        comment_id = _scalar(_INSERT_UNLESS_REPEAT, params)
    if comment_id is None:
        _refuse(params, now)
    return comment_id


def _refuse(params: dict, now: datetime):
    """Why the insert took nothing, from fresh reads (the refusal path only)."""
    issue = db.session.connection().execute(_ISSUE_NOW, params).first()
    if issue is None or issue.status != IssueStatus.PUBLISHED:
        raise CommentError("There is no such issue.", 404)
    if not is_open(issue, now):
        raise CommentError(CLOSED, 403)
    if _scalar(_DUPLICATE, params) is not None or "since" not in params:
        raise CommentError(DUPLICATE, 409)
    raise CommentError(FLOOD, 429)


@dataclass(frozen=True)
class Posted:
    """A stored comment, as the page answering the post needs it."""

    id: int
    status: str
    name: str
    email: str
    url: str


def post(sub: Submission, issue: IssueRef | None, now: datetime | None = None) -> Posted:
    """Check and store one comment and commit: the moderation feed takes it from there.

    `issue` is publishing.commentable_issue(); None (no such published issue) is a 404.
    """
    now = now or utcnow()
    if issue is None or issue.status != IssueStatus.PUBLISHED:
        raise CommentError("There is no such issue.", 404)
    if not is_open(issue, now):
        raise CommentError(CLOSED, 403)
    values = validate(sub.name, sub.email, sub.url, sub.body)
    _check_parent(issue, sub.parent_id)
    reasons = guards.bot_reasons(sub.honeypot, sub.stamp, issue.id, now)
    row = _new_row(issue, sub, values, reasons, now)
    comment_id = _insert(row, now)
    if reasons:  # a bot-like post never reaches the moderation feed: record why it was kept
        audit.record(
            "comment.posted", "comment", comment_id, "reader", status=row["status"], reasons=reasons
        )  # (the row itself also says why: decision_reasons)
    db.session.commit()
    return Posted(comment_id, row["status"], values["name"], values["email"], values["url"])


def _new_row(
    issue: IssueRef, sub: Submission, values: dict[str, str], reasons: list[str], now: datetime
) -> dict:
    spam = bool(reasons)
    return dict(  # noqa: C408  (a row of keyword-named columns)
        issue_id=issue.id,
        parent_id=sub.parent_id,
        kind=CommentKind.COMMENT,
        author_name=values["name"],
        author_email=values["email"],
        author_url=values["url"],
        author_ip=sub.ip[:45],
        user_agent=sub.user_agent[:255],
        avatar_key=avatar_key(values["email"]),
        author_token=sub.author_token[:64],
        notify_replies=sub.notify_replies,
        body_md=values["body"],
        body_html=comment_markdown_to_html(values["body"]),
        status=CommentStatus.SPAM if spam else CommentStatus.PENDING,
        previous_status=CommentStatus.PENDING if spam else None,
        is_author_reply=sub.is_staff,
        moderation_due=not spam,
        decision="guard" if spam else "",
        decision_reasons="; ".join(reasons),
        created_at=now,
        decided_at=now if spam else None,
    )


def store_trusted(sub: Submission, issue: IssueRef, now: datetime | None = None) -> Posted:
    """Check and store a comment that came without a form to trap bots in: an emailed reply,
    whose signed Reply-To address stands for its reader. The same validation (lengths, link
    limit), open-issue, duplicate and flood checks as post(); the caller's transaction, which
    the caller commits with its own rows."""
    now = now or utcnow()
    if not is_open(issue, now):
        raise CommentError(CLOSED, 403)
    values = validate(sub.name, sub.email, sub.url, sub.body)
    row = _new_row(issue, sub, values, [], now)
    comment_id = _insert(row, now)
    return Posted(comment_id, row["status"], values["name"], values["email"], values["url"])
