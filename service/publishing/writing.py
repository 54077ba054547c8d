"""Writing issues: drafts, slugs, authors and categories, and saving from the desk."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select

from service.core import audit
from service.core.rendering import excerpt, markdown_to_html
from service.extensions import db
from service.models import Author, Category, Issue


class PublishingError(ValueError):
    """A writer's request that cannot be carried out; the message says why."""


def existing(issue_id: int) -> Issue:
    """The issue with this id, or PublishingError."""
    issue = db.session.get(Issue, issue_id)
    if issue is None:
        raise PublishingError(f"There is no issue {issue_id}.")
    return issue


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


def create_draft(
    title: str,
    body_md: str,
    author: str,
    category: str = "Uncategorized",
    bio: str = "",
    comments_open: bool = True,
) -> Issue:
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


EDITABLE = ("title", "slug", "body_md", "category", "author", "bio", "comments_open")


def save(issue_id: int | None, fields: dict, actor: str = "system") -> Issue:
    """Create or update an issue's text and metadata (never its status); commit."""
    title = (fields.get("title") or "").strip()
    if not title:
        raise PublishingError("An issue needs a title.")
    if issue_id is None:
        issue = create_draft(
            title,
            fields.get("body_md", ""),
            fields.get("author") or "Editor",
            fields.get("category") or "Uncategorized",
            fields.get("bio", ""),
        )
        audit.record("issue.created", "issue", issue.id, actor)
    else:
        issue = existing(issue_id)
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
