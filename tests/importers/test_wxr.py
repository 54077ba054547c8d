"""Importing the seed blog's WordPress export: issues, threaded comments, a pingback, no emails."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from service.extensions import db
from service.models import Comment, Issue
from tests.conftest import shared_file

WXR = "fixtures/seed-blog.wxr.xml"


@pytest.fixture
def app_config():
    return {"TIMEZONE": "America/New_York"}


@pytest.fixture
def imported(app, runner):
    path = shared_file(WXR)
    result = runner.invoke(args=["import-wxr", str(path)])
    assert result.exit_code == 0, result.output
    return path


def _emails(path) -> set[str]:
    return set(re.findall(r"[\w.+-]+@example\.com", path.read_text()))


def test_import_brings_issues_comments_replies_and_one_pingback(app, runner):
    result = runner.invoke(args=["import-wxr", str(shared_file(WXR))])
    assert "5 issues, 34 comments (1 pingbacks, 14 replies)" in result.output
    assert db.session.scalar(select(func.count()).select_from(Issue)) == 5
    kinds = dict(
        db.session.execute(select(Comment.kind, func.count()).group_by(Comment.kind)).all()
    )
    assert kinds == {"comment": 33, "pingback": 1}
    replies = db.session.scalar(select(func.count()).where(Comment.parent_id.is_not(None)))
    assert replies == 14


def test_replies_show_nested_and_the_pingback_as_a_trackback(app, client, imported):
    page = client.get("/issues/the-era-of-the-enabler").get_data(as_text=True)
    assert "25 responses to “" in page
    assert page.count('class="comment depth-2') + page.count('class="comment depth-3') == 12
    closed = client.get("/issues/the-social-media-skill-set").get_data(as_text=True)
    assert "1 response to “" in closed and "1 trackback" in closed
    assert '<a href="http://blog.example.org/2011/02/skills/" rel="nofollow ugc">' in closed
    assert "Comments on this entry are closed." in closed and "Leave a Reply" not in closed


def test_imported_dates_show_in_the_site_timezone(app, client, imported):
    page = client.get("/issues/the-social-media-skill-set").get_data(as_text=True)
    assert "February 4, 2011 at 8:53 am" in page


def test_no_imported_email_appears_on_any_public_page(app, client, imported):
    emails = _emails(imported)
    assert len(emails) > 10
    paths = ["/", "/archive", "/feed.atom", "/sitemap.xml"]
    paths += [f"/issues/{slug}" for slug in db.session.scalars(select(Issue.slug))]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        text = response.get_data(as_text=True)
        assert not any(email in text for email in emails), path
