"""The moderator view: the queue, actions (one, bulk, keyboard), signed email links, audit log."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select, tuple_

from service.core import settings
from service.core.counting import capped_count
from service.core.errors import FieldErrors
from service.extensions import db
from service.models import Comment, CommentStatus, Event, Issue
from service.moderation import actions, rule_settings
from service.moderation.classifier import stats as classifier_stats
from service.web.auth import _safe_next, role_required

bp = Blueprint("moderate", __name__, url_prefix="/moderate")

TABS = {
    "pending": CommentStatus.PENDING,
    "spam": CommentStatus.SPAM,
    "approved": CommentStatus.APPROVED,
    "rejected": CommentStatus.TRASH,
}
TAB_LABELS = {"pending": "Pending", "spam": "Spam", "approved": "Approved", "rejected": "Rejected"}
PER_PAGE = 25
ROW_ACTIONS = "approve,reject,spam,notspam,restore,delete"


def _cursor(raw: str | None) -> tuple[datetime, int] | None:
    """Parse a keyset cursor 'ISO-TIME~ID' (None when absent or malformed)."""
    if not raw or "~" not in raw:
        return None
    moment, _, ident = raw.rpartition("~")
    try:
        when = datetime.fromisoformat(moment)
        return (when if when.tzinfo else when.replace(tzinfo=UTC)), int(ident)
    except ValueError:
        return None


def status_counts() -> dict[str, int]:
    """Comments per tab, exact up to 10,000 (then "10,000+"): fast with millions of rows."""
    return {
        tab: capped_count(select(Comment.id).where(Comment.status == status))
        for tab, status in TABS.items()
    }


def _history(emails: list[str]) -> dict[str, dict[str, int]]:
    """For each commenter email: how many of their comments are in each status."""
    emails = sorted({e for e in emails if e})
    history: dict[str, dict[str, int]] = {}
    if emails:
        rows = db.session.execute(
            select(Comment.author_email, Comment.status, func.count())
            .where(Comment.author_email.in_(emails))
            .group_by(Comment.author_email, Comment.status)
        )
        for email, status, n in rows:
            history.setdefault(email, {})[status] = n
    return history


def _page(query, cursor):
    query = query.join(Issue, Issue.id == Comment.issue_id)
    if cursor:
        query = query.where(tuple_(Comment.created_at, Comment.id) < tuple_(*cursor))
    rows = db.session.execute(
        query.order_by(Comment.created_at.desc(), Comment.id.desc()).limit(PER_PAGE + 1)
    ).all()
    more = rows[PER_PAGE:] != []
    rows = rows[:PER_PAGE]
    last = rows[-1][0] if rows and more else None
    return rows, (f"{last.created_at.isoformat()}~{last.id}" if last else None)


@bp.get("/")
@role_required("moderator")
def index():
    return redirect(url_for(".queue", tab="pending"))


@bp.get("/<any(pending, spam, approved, rejected):tab>")
@role_required("moderator")
def queue(tab: str):
    query = select(Comment, Issue.title, Issue.slug).where(Comment.status == TABS[tab])
    rows, next_cursor = _page(query, _cursor(request.args.get("before")))
    parent_ids = {c.parent_id for c, *_ in rows if c.parent_id}
    parents = (
        {p.id: p for p in db.session.scalars(select(Comment).where(Comment.id.in_(parent_ids)))}
        if parent_ids
        else {}
    )
    return render_template(
        "moderate/queue.html",
        tab=tab,
        tabs=TAB_LABELS,
        counts=status_counts(),
        rows=rows,
        parents=parents,
        history=_history([c.author_email for c, *_ in rows]),
        next_cursor=next_cursor,
        first_page=not request.args.get("before"),
        trained=classifier_stats(),
    )


@bp.get("/commenter")
@role_required("moderator")
def commenter():
    email = request.args.get("email", "").strip()
    if not email:
        abort(404)
    query = select(Comment, Issue.title, Issue.slug).where(Comment.author_email == email)
    rows, next_cursor = _page(query, _cursor(request.args.get("before")))
    return render_template(
        "moderate/commenter.html",
        email=email,
        rows=rows,
        history=_history([email]).get(email, {}),
        next_cursor=next_cursor,
    )


def _done(message: str, changed: list[int], status: str | None = None):
    """Answer a JSON caller (the keyboard script) or flash and go back."""
    if request.accept_mimetypes.best == "application/json":
        return jsonify({"changed": changed, "status": status, "message": message})
    flash(message, "info")
    return redirect(_safe_next(request.form.get("next") or request.args.get("next")))


@bp.post(f"/comments/<int:comment_id>/<any({ROW_ACTIONS}):action>")
@role_required("moderator")
def act(comment_id: int, action: str):
    changed = actions.act(action, [comment_id], current_user.email)
    comment = db.session.get(Comment, comment_id)
    status = comment.status if comment else "deleted"
    verb = {
        "notspam": "marked not spam",
        "reject": "rejected",
        "delete": "deleted",
        "restore": "restored",
        "spam": "marked spam",
        "approve": "approved",
    }[action]
    message = f"Comment {verb}." if changed else "Nothing to change."
    return _done(message, changed, status)


@bp.post("/bulk")
@role_required("moderator")
def bulk():
    action = request.form.get("action", "")
    if action not in ("approve", "spam", "reject", "delete"):
        abort(400)
    ids = [int(i) for i in request.form.getlist("ids") if i.isdigit()]
    changed = actions.act(action, ids, current_user.email) if ids else []
    return _done(f"{len(changed)} comment{'s' if len(changed) != 1 else ''} updated.", changed)


@bp.route("/comments/<int:comment_id>/edit", methods=["GET", "POST"])
@role_required("moderator")
def edit(comment_id: int):
    comment = db.session.get(Comment, comment_id) or abort(404)
    if request.method == "POST":
        form = request.form
        try:
            actions.edit(
                comment_id,
                current_user.email,
                form.get("name", ""),
                form.get("email", ""),
                form.get("url", ""),
                form.get("body", ""),
            )
        except actions.ModerationError as exc:
            flash(str(exc), "error")
            return render_template("moderate/edit.html", comment=comment, form=form), 400
        flash("Comment saved.", "info")
        return redirect(_safe_next(form.get("next")))
    values = {
        "name": comment.author_name,
        "email": comment.author_email,
        "url": comment.author_url,
        "body": comment.body_md,
    }
    return render_template("moderate/edit.html", comment=comment, form=values)


@bp.post("/comments/<int:comment_id>/reply")
@role_required("moderator")
def reply(comment_id: int):
    try:
        actions.reply_as_author(comment_id, current_user, request.form.get("body", ""))
    except actions.ModerationError as exc:
        flash(str(exc), "error")
        return redirect(_safe_next(request.form.get("next")))
    return _done("Reply published as the author.", [comment_id], CommentStatus.APPROVED)


@bp.post("/comments/<int:comment_id>/ban")
@role_required("moderator")
def ban(comment_id: int):
    try:
        banned = actions.ban(
            comment_id,
            current_user.email,
            email=bool(request.form.get("email")),
            ip=bool(request.form.get("ip")),
        )
    except actions.ModerationError:
        abort(404)
    what = ", ".join(banned) or "nothing new"
    return _done(f"Banned {what}; the comment is marked spam.", [comment_id], CommentStatus.SPAM)


@bp.get("/audit")
@role_required("moderator")
def audit_log():
    query = select(Event).order_by(Event.id.desc())
    before = request.args.get("before", "")
    if before.isdigit():
        query = query.where(Event.id < int(before))
    events = db.session.scalars(query.limit(50)).all()
    return render_template(
        "moderate/audit.html",
        events=events,
        next_before=events[-1].id if len(events) == 50 else None,
    )


@bp.route("/settings", methods=["GET", "POST"])
@role_required("admin")
def settings_page():
    if request.method == "POST":
        try:
            rule_settings.configure(request.form, current_user.email)
        except FieldErrors as exc:
            flash(str(exc), "error")
            return render_template("moderate/settings.html", values=rule_settings.current()), 400
        flash("Moderation settings saved.", "info")
        return redirect(url_for(".settings_page"))
    return render_template(
        "moderate/settings.html", values=rule_settings.current(), trained=classifier_stats()
    )


@bp.app_template_filter("reasons")
def reasons_filter(text: str) -> list[str]:
    return [r.strip() for r in (text or "").split(";") if r.strip()]


@bp.app_context_processor
def moderation_counts():
    def pending_count() -> int:
        return capped_count(select(Comment.id).where(Comment.status == CommentStatus.PENDING))

    return {
        "moderation_pending_count": pending_count,
        "spam_threshold": lambda: settings.get("moderation.spam_threshold"),
    }
