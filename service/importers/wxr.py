"""Import a WordPress export (WXR): posts become issues, approved comments and pingbacks come too.

One transaction for the whole file: a bad file changes nothing. Every row carries a source id
derived from the export, so importing the same file twice creates nothing twice.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from sqlalchemy import func, select

from service.comments.avatars import avatar_key
from service.core import audit
from service.core.rendering import clean_article_html, clean_comment_html
from service.extensions import db
from service.models import Comment, CommentKind, CommentStatus, Issue, IssueStatus
from service.publishing import writing

NS = {
    "wp": "http://wordpress.org/export/1.2/",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "excerpt": "http://wordpress.org/export/1.2/excerpt/",
    "dc": "http://purl.org/dc/elements/1.1/",
}
WP_NAMESPACES = [f"http://wordpress.org/export/1.{n}/" for n in range(3)]
STATUS = {
    "publish": IssueStatus.PUBLISHED,
    "draft": IssueStatus.DRAFT,
    "pending": IssueStatus.DRAFT,
    "future": IssueStatus.SCHEDULED,
    "private": IssueStatus.DRAFT,
}


class WXRFileError(ValueError):
    """The file cannot be imported; the message is one line that says why."""


@dataclass
class ImportReport:
    issues: int = 0
    comments: int = 0
    pingbacks: int = 0
    replies: int = 0
    skipped: int = 0
    existing: int = 0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.issues} issues, {self.comments} comments ({self.pingbacks} pingbacks, "
            f"{self.replies} replies) imported; {self.existing} already present, "
            f"{self.skipped} items skipped"
        )


def autop(text: str) -> str:
    """WordPress's wpautop, simplified: blank-line-separated text becomes paragraphs."""
    if re.search(r"<p[\s>]", text, re.IGNORECASE):
        return text
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if b.strip()]
    return "\n".join(
        b
        if re.match(r"<(h\d|ul|ol|blockquote|pre|table|div|figure)", b, re.IGNORECASE)
        else "<p>" + b.replace("\n", "<br>\n") + "</p>"
        for b in blocks
    )


def _text(el: ET.Element | None, path: str, ns: dict) -> str:
    found = el.find(path, ns) if el is not None else None
    return (found.text or "").strip() if found is not None else ""


def _wp_date(gmt: str, local: str, fallback: datetime | None = None) -> datetime | None:
    for value in (gmt, local):
        if value and not value.startswith("0000"):
            try:
                return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
            except ValueError:
                continue
    return fallback


def parse(path: str) -> tuple[ET.Element, dict]:
    """Parse and check the file is a WXR export; return its channel and namespaces."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise WXRFileError(f"{path} is not well-formed XML ({exc})") from None
    except OSError as exc:
        raise WXRFileError(f"cannot read {path}: {exc.strerror}") from None
    channel = root.find("channel")
    ns = dict(NS)
    for candidate in WP_NAMESPACES:
        if channel is not None and channel.find(f"{{{candidate}}}wxr_version") is not None:
            ns["wp"] = candidate
            break
    else:
        raise WXRFileError(f"{path} is not a WordPress export (no <wp:wxr_version> in <channel>)")
    return channel, ns


def import_file(
    path: str, progress: Callable[[Iterable], Iterable] | None = None, actor: str = "import"
) -> ImportReport:
    """Import a WXR file in one transaction and commit; raise WXRFileError and change nothing."""
    channel, ns = parse(path)
    site = _text(channel, "wp:base_site_url", ns) or _text(channel, "link", ns)
    authors = {
        _text(a, "wp:author_login", ns): _text(a, "wp:author_display_name", ns)
        for a in channel.findall("wp:author", ns)
    }
    items = channel.findall("item")
    posts = [i for i in items if _text(i, "wp:post_type", ns) in ("post", "")]
    report = ImportReport(skipped=len(items) - len(posts))
    posts.sort(key=lambda i: _post_date(i, ns) or datetime.max.replace(tzinfo=UTC))
    try:
        for item in progress(posts) if progress else posts:
            _import_post(item, ns, site, authors, report)
        audit.record("import.wxr", "import", None, actor, summary=report.summary())
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return report


def _post_date(item: ET.Element, ns: dict) -> datetime | None:
    date = _wp_date(_text(item, "wp:post_date_gmt", ns), _text(item, "wp:post_date", ns))
    if date is None and _text(item, "pubDate", ns):
        try:
            date = parsedate_to_datetime(_text(item, "pubDate", ns)).astimezone(UTC)
        except (TypeError, ValueError):
            date = None
    return date


def _import_post(item: ET.Element, ns: dict, site: str, authors: dict, report: ImportReport):
    status = STATUS.get(_text(item, "wp:status", ns))
    post_id = _text(item, "wp:post_id", ns) or _text(item, "guid", ns)
    title = _text(item, "title", ns)
    if status is None or not post_id or not title:
        report.skipped += 1
        return
    source = f"wxr:{site}:{post_id}"
    issue = db.session.scalar(select(Issue).where(Issue.source_id == source))
    if issue is not None:
        report.existing += 1
    else:
        issue = _new_issue(item, ns, source, title, status, authors)
        report.issues += 1
    _import_comments(item, ns, issue, source, report)


def _new_issue(item, ns, source, title, status, authors) -> Issue:
    login = _text(item, "dc:creator", ns)
    categories = [
        c.text.strip() for c in item.findall("category") if c.get("domain") == "category" and c.text
    ]
    slug = _text(item, "wp:post_name", ns) or title
    issue = Issue(
        title=title,
        slug=writing.unique_slug(slug),
        status=status,
        comments_open=_text(item, "wp:comment_status", ns) != "closed",
        source_id=source,
    )
    issue.author = writing.author_named(authors.get(login) or login or "Unknown author")
    issue.category = writing.category_named(categories[0] if categories else "Uncategorized")
    writing.set_body(issue, body_html=clean_article_html(autop(_text(item, "content:encoded", ns))))
    date = _post_date(item, ns)
    if status == IssueStatus.PUBLISHED:
        issue.published_at = date
        issue.number = (db.session.scalar(select(func.max(Issue.number))) or 0) + 1
    elif status == IssueStatus.SCHEDULED:
        issue.publish_at = date
    db.session.add(issue)
    db.session.flush()
    return issue


def _import_comments(item, ns, issue: Issue, source: str, report: ImportReport) -> None:
    by_wp_id: dict[str, Comment] = {}
    pending_parents: list[tuple[Comment, str]] = []
    for el in item.findall("wp:comment", ns):
        if _text(el, "wp:comment_approved", ns) != "1":
            continue
        wp_id = _text(el, "wp:comment_id", ns)
        comment_source = f"{source}:comment:{wp_id}"
        comment = db.session.scalar(select(Comment).where(Comment.source_id == comment_source))
        if comment is None:
            comment = _new_comment(el, ns, issue, comment_source)
            report.comments += 1
            report.pingbacks += comment.kind == CommentKind.PINGBACK
        by_wp_id[wp_id] = comment
        parent = _text(el, "wp:comment_parent", ns)
        if parent not in ("", "0") and comment.parent_id is None:
            pending_parents.append((comment, parent))
    db.session.flush()
    for comment, parent in pending_parents:
        if parent in by_wp_id:
            comment.parent_id = by_wp_id[parent].id
            report.replies += 1


def _new_comment(el, ns, issue: Issue, source: str) -> Comment:
    email = _text(el, "wp:comment_author_email", ns)[:100]
    kind = _text(el, "wp:comment_type", ns)
    comment = Comment(
        issue_id=issue.id,
        kind=CommentKind.PINGBACK if kind in ("pingback", "trackback") else CommentKind.COMMENT,
        author_name=(_text(el, "wp:comment_author", ns) or "Anonymous")[:245],
        author_email=email,
        author_url=_text(el, "wp:comment_author_url", ns)[:200],
        author_ip=_text(el, "wp:comment_author_IP", ns)[:45],
        avatar_key=avatar_key(email) if email else "",
        body_html=clean_comment_html(autop(_text(el, "wp:comment_content", ns))),
        status=CommentStatus.APPROVED,
        decision="imported",
        source_id=source,
        created_at=_wp_date(
            _text(el, "wp:comment_date_gmt", ns),
            _text(el, "wp:comment_date", ns),
            issue.published_at,
        )
        or issue.created_at,
    )
    db.session.add(comment)
    return comment
