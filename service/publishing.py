"""Issues: drafts, scheduling, publishing, and the public queries over them."""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from datetime import datetime

from blinker import Namespace
from flask import has_app_context
from sqlalchemy import Row, bindparam, event, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import audit, recent, webhooks
from .extensions import db
from .models import Author, Category, Issue
from .models.base import utcnow
from .rendering import excerpt, markdown_to_html
from .urls import absolute

signals = Namespace()
#: Sent inside the publishing transaction (receivers may add rows; they must not commit).
issue_publishing = signals.signal("issue-publishing")
#: Sent after the publishing transaction committed (receivers may enqueue work).
issue_published = signals.signal("issue-published")


class PublishingError(ValueError):
    """A writer's request that cannot be carried out; the message says why."""


def slugify(text: str, max_length: int = 80) -> str:
    """Turn a title into a URL slug: lowercase ASCII words joined by hyphens."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-zA-Z0-9]+", "-", text).strip("-").lower()
    return text[:max_length].rstrip("-") or "issue"


def unique_slug(title: str, exclude_id: int | None = None) -> str:
    """A slug for `title` that no other issue uses."""
    base = slugify(title)
    slug, n = base, 2
    while True:
        query = select(Issue.id).where(Issue.slug == slug)
        if exclude_id is not None:
            query = query.where(Issue.id != exclude_id)
        if db.session.scalar(query) is None:
            return slug
        slug, n = f"{base}-{n}", n + 1


def author_named(name: str, bio: str = "") -> Author:
    """Return the author with this name, creating it (with `bio`) if needed."""
    author = db.session.scalar(select(Author).where(Author.name == name))
    if author is None:
        author = Author(name=name, bio=bio)
        db.session.add(author)
        db.session.flush()
    elif bio and not author.bio:
        author.bio = bio
    return author


def category_named(name: str) -> Category:
    """Return the category with this name, creating it if needed."""
    category = db.session.scalar(select(Category).where(Category.name == name))
    if category is None:
        slug, n = slugify(name), 2
        while db.session.scalar(select(Category.id).where(Category.slug == slug)):
            slug, n = f"{slugify(name)}-{n}", n + 1
        category = Category(name=name, slug=slug)
        db.session.add(category)
        db.session.flush()
    return category


def set_body(issue: Issue, body_md: str | None = None, body_html: str | None = None) -> None:
    """Store the body (Markdown, or already-sanitized HTML from an import) and its excerpt."""
    if body_md is not None:
        issue.body_md = body_md
        issue.body_html = markdown_to_html(body_md)
    elif body_html is not None:
        issue.body_html = body_html
    issue.excerpt = excerpt(issue.body_html)


def create_draft(title: str, body_md: str, author: str, category: str = "Uncategorized",
                 bio: str = "", comments_open: bool = True) -> Issue:
    """Create a draft issue (not committed)."""
    title = title.strip()
    if not title:
        raise PublishingError("An issue needs a title.")
    issue = Issue(title=title, slug=unique_slug(title), comments_open=comments_open)
    issue.author = author_named(author, bio)
    issue.category = category_named(category)
    set_body(issue, body_md=body_md)
    db.session.add(issue)
    db.session.flush()
    return issue


def _next_number() -> int:
    return (db.session.scalar(select(func.max(Issue.number))) or 0) + 1


def _mark_published(issue: Issue, when: datetime, actor: str, email_subscribers: bool) -> None:
    if issue.number is None:
        issue.number = _next_number()
    issue.status = "published"
    issue.published_at = issue.published_at or when
    issue.publish_at = None
    audit.record("issue.published", "issue", issue.id, actor, number=issue.number,
                 email_subscribers=email_subscribers)
    webhooks.emit("issue.published", {"id": issue.id, "number": issue.number,
                                      "title": issue.title,
                                      "url": absolute("public.issue", slug=issue.slug)})
    if email_subscribers:
        issue_publishing.send(issue)


def publish(issue_id: int, actor: str = "system", when: datetime | None = None,
            email_subscribers: bool | None = None) -> Issue:
    """Publish an issue now: number it, make it public, plan its deliveries; commit.

    With email_subscribers=False the issue goes on the site and in the feed only.
    """
    for attempt in range(3):
        issue = db.session.get(Issue, issue_id)
        if issue is None:
            raise PublishingError(f"There is no issue {issue_id}.")
        if issue.status == "published":
            return issue
        if email_subscribers is not None:
            issue.email_subscribers = email_subscribers
        _mark_published(issue, when or utcnow(), actor, issue.email_subscribers)
        try:
            db.session.commit()
        except IntegrityError:  # another process took the same number at the same moment
            db.session.rollback()
            if attempt == 2:
                raise
            continue
        issue_published.send(issue)
        return issue
    raise AssertionError("unreachable")


def schedule(issue_id: int, when: datetime, actor: str = "system",
             email_subscribers: bool = True) -> Issue:
    """Schedule a draft for publication at `when` (an aware datetime); commit."""
    issue = db.session.get(Issue, issue_id)
    if issue is None:
        raise PublishingError(f"There is no issue {issue_id}.")
    if issue.status == "published":
        raise PublishingError("That issue is already published.")
    issue.status, issue.publish_at = "scheduled", when
    issue.published_at = None  # it will carry the scheduled time as its date
    issue.email_subscribers = email_subscribers
    audit.record("issue.scheduled", "issue", issue.id, actor, publish_at=when.isoformat())
    db.session.commit()
    return issue


def unpublish(issue_id: int, actor: str = "system") -> Issue:
    """Take an issue back to draft; nothing already sent is sent again; commit."""
    issue = db.session.get(Issue, issue_id)
    if issue is None:
        raise PublishingError(f"There is no issue {issue_id}.")
    issue.status, issue.publish_at = "draft", None
    audit.record("issue.unpublished", "issue", issue.id, actor)
    db.session.commit()
    return issue


def publish_due(now: datetime | None = None) -> list[int]:
    """Publish every scheduled issue whose time has come; safe with many beat processes.

    Each issue is claimed by a conditional UPDATE (status scheduled → publishing) in the same
    transaction that publishes it: a second process's UPDATE matches no row (PostgreSQL
    re-checks the WHERE after the first commits; SQLite serialises writers), so each issue
    is published at most once.
    """
    now = now or utcnow()
    due = db.session.scalars(
        select(Issue.id).where(Issue.status == "scheduled", Issue.publish_at <= now)
    ).all()
    db.session.rollback()
    published = []
    for issue_id in due:
        claimed = db.session.execute(
            update(Issue)
            .where(Issue.id == issue_id, Issue.status == "scheduled")
            .values(status="publishing")
        ).rowcount
        if not claimed:
            db.session.rollback()
            continue
        issue = db.session.get(Issue, issue_id, populate_existing=True)
        try:
            _mark_published(issue, issue.publish_at or now, "scheduler", issue.email_subscribers)
            db.session.commit()
        except IntegrityError:  # a number taken concurrently: the next tick tries again
            db.session.rollback()
            continue
        issue_published.send(issue)
        published.append(issue_id)
    return published


# Public queries ---------------------------------------------------------------------------


def published_issues():
    """A select() of the public issues, newest first."""
    return (
        select(Issue)
        .where(Issue.status == "published")
        .order_by(Issue.published_at.desc(), Issue.id.desc())
    )


_PUBLIC = select(Issue).where(Issue.slug == bindparam("slug"), Issue.status == "published")


def public_issue(slug: str) -> Issue | None:
    return db.session.scalar(_PUBLIC, {"slug": slug})


#: What a comment post needs to know of its issue (a row with these names), not the essay.
IssueRef = Row
_COMMENTABLE = select(Issue.id, Issue.slug, Issue.title, Issue.status, Issue.comments_open,
                      Issue.published_at).where(Issue.slug == bindparam("slug"),
                                                Issue.status == "published")


def commentable_issue(slug: str) -> IssueRef | None:
    """The published issue at `slug` as an IssueRef (None when there is none), from this
    process's copy when under 2 s old: the comment insert checks again that the issue is
    published and open (service/comments.py), so a stale copy cannot let a post through."""
    return recent.get(f"issue:{slug}", lambda: db.session.connection().execute(
        _COMMENTABLE, {"slug": slug}).first(), keep=lambda ref: ref is not None)


# The issue page's statements, built once with bound parameters (page views are the hot path).
_AT, _ID = bindparam("at", type_=Issue.published_at.type), bindparam("id")
_OLDER = (select(Issue.id, Issue.slug, Issue.title)
          .where(Issue.status == "published", Issue.id != _ID, Issue.published_at <= _AT,
                 (Issue.published_at < _AT) | (Issue.id < _ID))
          .order_by(Issue.published_at.desc(), Issue.id.desc()).limit(1))
_NEWER = (select(Issue.id, Issue.slug, Issue.title)
          .where(Issue.status == "published", Issue.id != _ID, Issue.published_at >= _AT,
                 (Issue.published_at > _AT) | (Issue.id > _ID))
          .order_by(Issue.published_at.asc(), Issue.id.asc()).limit(1))


def neighbours(issue: Issue):
    """The previous (older) and next (newer) published issues: rows of (id, slug, title)."""
    at = {"at": issue.published_at, "id": issue.id}
    connection = db.session.connection()
    return connection.execute(_OLDER, at).first(), connection.execute(_NEWER, at).first()


_WORD = re.compile(r"[a-z][a-z'’]{3,}")
STOPWORDS = set(  # noqa: C405  (one word list, kept on one line)
    ["that", "this", "with", "have", "from", "they", "them", "their", "there", "what", "when", "which", "would", "about", "were", "been", "into", "more", "some", "than", "then", "your", "just", "like", "also", "only", "very", "because", "being", "those", "these", "other", "does", "doesn’t", "don’t", "don't", "it's", "it’s", "i’m", "i'm", "you’re", "you're", "think", "people"]
)


def _terms(text: str) -> Counter:
    return Counter(w for w in _WORD.findall(text.lower()) if w not in STOPWORDS)


def _cosine(a: Counter, b: Counter) -> float:
    common = set(a) & set(b)
    dot = sum(a[w] * b[w] for w in common)
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm if norm else 0.0


#: Related issues are worked out at most this often per process (they only change when issues
#: are published or edited, and reading every candidate's text on each page view would not scale).
RELATED_SECONDS = 600


@event.listens_for(Session, "after_flush")
def _note_issue_changes(session: Session, context) -> None:
    if any(isinstance(row, Issue) for row in (*session.new, *session.dirty, *session.deleted)):
        session.info["issues_changed"] = True


@event.listens_for(Session, "after_commit")
def _forget_issue_copies(session: Session) -> None:
    """This process changed an issue: its copies (slugs, related issues) are dropped at once;
    other processes drop theirs when they age out."""
    if session.info.pop("issues_changed", False) and has_app_context():
        recent.forget()


def related(issue: Issue, limit: int = 3, candidates: int = 300) -> list[Issue]:
    """Up to `limit` published issues most like this one: same category, similar words."""
    ids = recent.get(f"related:{issue.id}:{limit}", lambda: _related_ids(issue, limit, candidates),
                     max_age=RELATED_SECONDS)
    if not ids:
        return []
    found = {other.id: other for other in db.session.scalars(
        published_issues().where(Issue.id.in_(ids)))}
    return [found[i] for i in ids if i in found]  # one unpublished since: left out


def _related_ids(issue: Issue, limit: int, candidates: int) -> list[int]:
    others = db.session.execute(
        select(Issue.id, Issue.title, Issue.excerpt, Issue.body_html, Issue.category_id,
               Issue.published_at)
        .where(Issue.status == "published", Issue.id != issue.id)
        .order_by(Issue.published_at.desc(), Issue.id.desc()).limit(candidates)
    ).all()
    mine = _terms(issue.title + " " + issue.excerpt + " " + issue.body_html)
    scored = []
    for other in others:
        score = _cosine(mine, _terms(other.title + " " + other.excerpt + " " + other.body_html))
        if issue.category_id and other.category_id == issue.category_id:
            score += 0.5
        if score > 0.05:
            scored.append((score, other.published_at, other.id))
    scored.sort(key=lambda t: (t[0], t[1]), reverse=True)
    return [other_id for _, _, other_id in scored[:limit]]


# The writer's desk ---------------------------------------------------------------------------

EDITABLE = ("title", "slug", "body_md", "category", "author", "bio", "comments_open")


def save(issue_id: int | None, fields: dict, actor: str = "system") -> Issue:
    """Create or update an issue's text and metadata (never its status); commit."""
    title = (fields.get("title") or "").strip()
    if not title:
        raise PublishingError("An issue needs a title.")
    if issue_id is None:
        issue = create_draft(title, fields.get("body_md", ""), fields.get("author") or "Editor",
                             fields.get("category") or "Uncategorized", fields.get("bio", ""))
        audit.record("issue.created", "issue", issue.id, actor)
    else:
        issue = db.session.get(Issue, issue_id)
        if issue is None:
            raise PublishingError(f"There is no issue {issue_id}.")
        issue.title = title
        set_body(issue, body_md=fields.get("body_md", issue.body_md))
        if fields.get("author"):
            issue.author = author_named(fields["author"].strip())
        if fields.get("bio") is not None and issue.author:
            issue.author.bio = fields["bio"].strip()
        if fields.get("category"):
            issue.category = category_named(fields["category"].strip())
        audit.record("issue.edited", "issue", issue.id, actor)
    if "comments_open" in fields:
        issue.comments_open = bool(fields["comments_open"])
    wanted = slugify(fields.get("slug") or "") if fields.get("slug") else None
    if wanted and wanted != issue.slug:
        if unique_slug(wanted, exclude_id=issue.id) != wanted:
            raise PublishingError(f"The slug “{wanted}” is taken by another issue.")
        issue.slug = wanted
    db.session.commit()
    return issue
