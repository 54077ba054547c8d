"""The public thread of an issue, built from one query into view objects without any email.

Templates get CommentView and TrackbackView objects: they have no email field at all, so no
template can print an address by mistake.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, or_, select

from service.core import settings
from service.extensions import db
from service.models import Comment, CommentKind, CommentStatus, Issue

#: The only columns a public page ever reads (author_email is not among them).
PUBLIC_COLUMNS = (
    Comment.id,
    Comment.parent_id,
    Comment.kind,
    Comment.author_name,
    Comment.author_url,
    Comment.avatar_key,
    Comment.created_at,
    Comment.body_html,
    Comment.is_author_reply,
    Comment.status,
)


@dataclass(slots=True)
class CommentView:
    """One comment as a public page shows it."""

    id: int
    parent_id: int | None
    author_name: str
    author_url: str
    avatar_key: str
    created_at: datetime
    body_html: str
    is_author_reply: bool = False
    awaiting: bool = False  # the viewer's own comment, still pending
    number: int | None = None
    depth: int = 1
    children: list[CommentView] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return f"comment-{self.id}"


@dataclass(slots=True)
class TrackbackView:
    """A pingback or trackback: another site that linked here."""

    id: int
    site_name: str
    url: str
    created_at: datetime
    excerpt_html: str


@dataclass
class Thread:
    title: str
    comments: list[CommentView]
    trackbacks: list[TrackbackView]
    count: int
    by_id: dict[int, CommentView]

    @property
    def heading(self) -> str:
        """WordPress's "N responses to “TITLE”"."""
        if self.count == 0:
            return "No responses yet"
        noun = "response" if self.count == 1 else "responses"
        return f"{self.count} {noun} to “{self.title}”"

    @property
    def trackbacks_heading(self) -> str:
        n = len(self.trackbacks)
        return f"{n} trackback" if n == 1 else f"{n} trackbacks"

    def approved(self, comment_id: int | None) -> CommentView | None:
        """The approved comment with this id in the thread (a valid reply target), or None."""
        view = self.by_id.get(comment_id) if comment_id is not None else None
        return view if view is not None and not view.awaiting else None


def safe_url(url: str) -> str:
    """Only http(s) links leave the database for a page (imports may hold anything)."""
    return url if url.lower().startswith(("http://", "https://")) else ""


def visible_rows(issue_id: int, viewer_token: str = ""):
    """Approved comments and pingbacks of one issue, plus the viewer's own pending ones."""
    visible = Comment.status == CommentStatus.APPROVED
    if viewer_token:
        visible = or_(
            visible,
            and_(Comment.status == CommentStatus.PENDING, Comment.author_token == viewer_token),
        )
    query = (
        select(*PUBLIC_COLUMNS)
        .where(Comment.issue_id == issue_id, visible)
        .order_by(Comment.created_at, Comment.id)
    )
    return db.session.execute(query).all()


def has_pending(issue_id: int, viewer_token: str) -> bool:
    """Whether this viewer has a comment on the issue still awaiting moderation."""
    if not viewer_token:
        return False
    found = db.session.scalar(
        select(Comment.id)
        .where(
            Comment.author_token == viewer_token,
            Comment.issue_id == issue_id,
            Comment.status == CommentStatus.PENDING,
        )
        .limit(1)
    )
    return found is not None


def configured_depth() -> int:
    """The configured maximum reply depth (at least 1)."""
    return max(1, int(settings.get("comments.max_depth") or 3))


def build(issue: Issue, viewer_token: str = "", max_depth: int | None = None) -> Thread:
    """The threaded view of `issue` for one viewer, in one query."""
    depth_limit = max(1, int(max_depth)) if max_depth else configured_depth()
    views: list[CommentView] = []
    trackbacks: list[TrackbackView] = []
    number = 0
    for row in visible_rows(issue.id, viewer_token):
        if row.kind != CommentKind.COMMENT:
            trackbacks.append(
                TrackbackView(
                    row.id, row.author_name, safe_url(row.author_url), row.created_at, row.body_html
                )
            )
            continue
        awaiting = row.status != CommentStatus.APPROVED
        if not awaiting:
            number += 1
        views.append(
            CommentView(
                row.id,
                row.parent_id,
                row.author_name,
                safe_url(row.author_url),
                row.avatar_key,
                row.created_at,
                row.body_html,
                row.is_author_reply,
                awaiting,
                None if awaiting else number,
            )
        )
    by_id = {view.id: view for view in views}
    roots = nest(views, by_id, depth_limit)
    return Thread(issue.title, roots, trackbacks, number, by_id)


def nest(views: list[CommentView], by_id: dict[int, CommentView], max_depth: int):
    """Attach replies under their parents; deeper than `max_depth`, under the deepest level."""
    targets: dict[int, CommentView | None] = {}
    depths: dict[int, int] = {}
    busy: set[int] = set()

    def target(view: CommentView) -> CommentView | None:
        if view.id not in targets:
            parent = by_id.get(view.parent_id) if view.parent_id is not None else None
            if parent is not None and parent.id in busy:
                parent = None  # a cycle in corrupt data: show it at the top level
            busy.add(view.id)
            if parent is not None and depth(parent) >= max_depth:
                parent = target(parent)
            busy.discard(view.id)
            targets[view.id] = parent
        return targets[view.id]

    def depth(view: CommentView) -> int:
        if view.id not in depths:
            above = target(view)
            depths[view.id] = 1 if above is None else depth(above) + 1
        return depths[view.id]

    roots: list[CommentView] = []
    for view in views:
        above = target(view)
        view.depth = depth(view)
        (roots if above is None else above.children).append(view)
    return roots
