"""The writer's desk: write, preview, autosave, schedule, publish and unpublish issues."""

from __future__ import annotations

import smtplib
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from service.core import site
from service.core.rendering import markdown_to_html
from service.extensions import db
from service.models import Issue, IssueStatus
from service.models.base import utcnow
from service.newsletter import composing
from service.publishing import scheduling, writing
from service.web.auth import role_required

bp = Blueprint("desk", __name__, url_prefix="/admin/issues")


def _fields(form) -> dict:
    return {
        "title": form.get("title", ""),
        "slug": form.get("slug", ""),
        "body_md": form.get("body_md", ""),
        "category": form.get("category", ""),
        "author": form.get("author", ""),
        "bio": form.get("bio"),
        "comments_open": form.get("comments_open") == "1",
    }


def _site_tz() -> ZoneInfo:
    return site.timezone()


def parse_local(value: str) -> datetime:
    """A datetime-local value typed in the site's timezone, as an aware datetime."""
    try:
        naive = datetime.fromisoformat(value)
    except ValueError:
        raise writing.PublishingError("Give the date and time as YYYY-MM-DD HH:MM.") from None
    return naive.replace(tzinfo=_site_tz())


@bp.get("/")
@role_required()
def index():
    issues = db.session.scalars(
        select(Issue)
        .order_by(
            Issue.status != IssueStatus.DRAFT,
            Issue.status != IssueStatus.SCHEDULED,
            Issue.published_at.desc(),
            Issue.id.desc(),
        )
        .limit(500)
    ).all()
    return render_template("desk/index.html", issues=issues)


@bp.route("/new", methods=["GET", "POST"])
@role_required()
def new():
    if request.method == "POST":
        return _save_and_act(None)
    return render_template(
        "desk/edit.html", issue=None, form={"comments_open": True}, tz=site.timezone_name()
    )


@bp.route("/<int:issue_id>", methods=["GET", "POST"])
@role_required()
def edit(issue_id: int):
    issue = db.session.get(Issue, issue_id) or abort(404)
    if request.method == "POST":
        return _save_and_act(issue_id)
    form = {
        "title": issue.title,
        "slug": issue.slug,
        "body_md": issue.body_md,
        "category": issue.category.name if issue.category else "",
        "author": issue.author.name if issue.author else "",
        "bio": issue.author.bio if issue.author else "",
        "comments_open": issue.comments_open,
    }
    return render_template("desk/edit.html", issue=issue, form=form, tz=site.timezone_name())


def _save_and_act(issue_id: int | None):
    action = request.form.get("action", "save")
    actor = current_user.email
    try:
        issue = writing.save(issue_id, _fields(request.form), actor)
        if action == "publish":
            scheduling.publish(
                issue.id,
                actor=actor,
                email_subscribers=request.form.get("email_subscribers") == "1",
            )
            flash(f"Published as Issue #{issue.number}.", "success")
        elif action == "schedule":
            when = parse_local(request.form.get("publish_at", ""))
            if when <= utcnow():
                raise writing.PublishingError("Choose a time in the future to schedule.")
            scheduling.schedule(
                issue.id,
                when,
                actor=actor,
                email_subscribers=request.form.get("email_subscribers") == "1",
            )
            flash(f"Scheduled for {when:%Y-%m-%d %H:%M} ({site.timezone_name()}).", "success")
        elif action == "unpublish":
            scheduling.unpublish(issue.id, actor=actor)
            flash(
                "Back to draft: it is gone from the site and the feed. Nothing is re-sent.",
                "success",
            )
        else:
            flash("Saved.", "success")
    except writing.PublishingError as exc:
        db.session.rollback()
        shown = db.session.get(Issue, issue_id) if issue_id else None
        flash(str(exc), "error")
        return render_template(
            "desk/edit.html", issue=shown, form=_fields(request.form), tz=site.timezone_name()
        ), 422
    return redirect(url_for("desk.edit", issue_id=issue.id))


@bp.post("/<int:issue_id>/test-email")
@role_required()
def test_email(issue_id: int):
    """Send the issue's email, exactly as subscribers will get it, to the logged-in admin."""
    db.session.get(Issue, issue_id) or abort(404)
    try:
        composing.send_test(issue_id, current_user.name, current_user.email)
    except (OSError, smtplib.SMTPException) as exc:
        flash(f"The test email could not be sent: {exc}", "error")
    else:
        flash(f"Test email sent to {current_user.email}.", "success")
    return redirect(url_for("desk.edit", issue_id=issue_id))


@bp.post("/autosave-new")
@role_required()
def autosave_new():
    """Create the draft the first time a new issue autosaves; answer where to save next."""
    data = request.get_json(silent=True) or {}
    try:
        issue = writing.save(
            None,
            {"title": data.get("title", ""), "body_md": data.get("body_md", "")},
            current_user.email,
        )
    except writing.PublishingError as exc:
        db.session.rollback()
        return jsonify(error=str(exc)), 422
    return jsonify(
        id=issue.id,
        autosave_url=url_for("desk.autosave", issue_id=issue.id),
        edit_url=url_for("desk.edit", issue_id=issue.id),
        saved_at=utcnow().astimezone(_site_tz()).strftime("%H:%M:%S"),
    )


@bp.post("/<int:issue_id>/autosave")
@role_required()
def autosave(issue_id: int):
    """Save the text of a draft as the writer types (JSON in, JSON out)."""
    issue = db.session.get(Issue, issue_id) or abort(404)
    data = request.get_json(silent=True) or {}
    try:
        writing.save(
            issue.id, {k: data[k] for k in ("title", "body_md") if k in data}, current_user.email
        )
    except writing.PublishingError as exc:
        db.session.rollback()
        return jsonify(error=str(exc)), 422
    return jsonify(saved_at=utcnow().astimezone(_site_tz()).strftime("%H:%M:%S"))


@bp.post("/preview")
@role_required()
def preview():
    """Render Markdown exactly as the public page will (same renderer, same sanitizer)."""
    data = request.get_json(silent=True) or {}
    return jsonify(html=markdown_to_html(data.get("body_md", "")))
