"""The public site: home, archive, issues, categories."""

from __future__ import annotations

from itertools import groupby
from urllib.parse import quote

from flask import Blueprint, abort, current_app, render_template, request
from sqlalchemy import select

from service.core.urls import absolute
from service.extensions import db
from service.models import Category, Issue
from service.publishing import queries, related
from service.web import comments as comments_web

bp = Blueprint("public", __name__)


def _page() -> int:
    try:
        return max(1, int(request.args.get("page", 1)))
    except ValueError:
        abort(404)


@bp.get("/")
def home():
    issues = db.session.scalars(queries.published_issues().limit(10)).all()
    return render_template("public/home.html", issues=issues)


@bp.get("/archive")
def archive():
    page = db.paginate(
        queries.published_issues(),
        page=_page(),
        per_page=current_app.config["ISSUES_PER_PAGE"],
        error_out=True,
    )
    years = [
        (year, list(items))
        for year, items in groupby(page.items, key=lambda i: i.published_at.year)
    ]
    return render_template("public/archive.html", page=page, years=years)


@bp.get("/issues/<slug>")
def issue(slug: str):
    found = queries.public_issue(slug)
    if found is None:
        abort(404)
    older, newer = queries.neighbours(found)
    url = absolute("public.issue", slug=found.slug)
    return render_template(
        "public/issue.html",
        issue=found,
        older=older,
        newer=newer,
        related=related.related(found),
        share=share_links(url, found.title),
        **comments_web.issue_context(found),
    )


@bp.get("/category/<slug>")
def category(slug: str):
    found = db.session.scalar(select(Category).where(Category.slug == slug))
    if found is None:
        abort(404)
    query = queries.published_issues().where(Issue.category_id == found.id)
    page = db.paginate(query, page=_page(), per_page=current_app.config["ISSUES_PER_PAGE"])
    return render_template("public/category.html", category=found, page=page)


def share_links(url: str, title: str) -> list[tuple[str, str]]:
    """Plain share links: no third-party script, no tracking."""
    u, t = quote(url, safe=""), quote(title, safe="")
    return [
        ("Email", f"mailto:?subject={t}&body={u}"),
        ("Mastodon", f"https://mastodonshare.com/?text={t}&url={u}"),
        ("Bluesky", f"https://bsky.app/intent/compose?text={t}%20{u}"),
        ("LinkedIn", f"https://www.linkedin.com/sharing/share-offsite/?url={u}"),
        ("Hacker News", f"https://news.ycombinator.com/submitlink?u={u}&t={t}"),
    ]
