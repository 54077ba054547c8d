"""Machine-readable views: the Atom feed and sitemap.xml."""

from __future__ import annotations

from feedgen.feed import FeedGenerator
from flask import Blueprint, Response, current_app, render_template

from service.core import site
from service.core.urls import absolute
from service.extensions import db
from service.models.base import utcnow
from service.publishing import queries

bp = Blueprint("feeds", __name__)


@bp.get("/feed.atom")
def atom():
    issues = db.session.scalars(queries.published_issues().limit(20)).all()
    site_url = current_app.config["SITE_URL"]
    fg = FeedGenerator()
    fg.id(site_url + "/")
    fg.title(site.name())
    fg.subtitle(site.description())
    fg.link(href=absolute("feeds.atom"), rel="self")
    fg.link(href=site_url + "/", rel="alternate")
    fg.updated(max((i.updated_at for i in issues), default=utcnow()))
    for issue in reversed(issues):
        entry = fg.add_entry()
        link = absolute("public.issue", slug=issue.slug)
        entry.id(link)
        entry.title(f"Issue #{issue.number}: {issue.title}")
        entry.link(href=link)
        entry.published(issue.published_at)
        entry.updated(max(issue.updated_at, issue.published_at))
        entry.author(name=issue.author.name if issue.author else site.name())
        if issue.category:
            entry.category(term=issue.category.name)
        entry.summary(issue.excerpt)
        entry.content(issue.body_html, type="html")
    return Response(fg.atom_str(pretty=True), mimetype="application/atom+xml")


@bp.get("/sitemap.xml")
def sitemap():
    issues = db.session.scalars(queries.published_issues()).all()
    body = render_template("public/sitemap.xml", issues=issues)
    return Response(body, mimetype="application/xml")
