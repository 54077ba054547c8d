"""In a real browser: write an issue, preview it, schedule it, and see the beat task publish it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.extensions import db
from service.models import Issue
from service.publishing import scheduling
from tests.support import processes
from tests.support.browser import chromium, live_server

# SQLite only: the database file is shared with another process or thread
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def log_in(page, base: str) -> None:
    page.goto(f"{base}/login")
    page.fill("[name=email]", "alice@example.com")
    page.fill("[name=password]", "alice-password-1")
    page.click("button[type=submit]")


@pytest.mark.browser
def test_write_preview_schedule_and_publish(app, admin):
    with live_server(app) as base, chromium() as page:
        log_in(page, base)
        page.goto(f"{base}/admin/issues/new")
        page.fill("[name=title]", "Letters from the garden")
        page.fill("[name=category]", "Garden")
        page.fill("[name=author]", "Ann Author")
        page.fill("#body_md", "## Seedlings\n\nThey *finally* came up.")
        page.wait_for_selector("#preview h2:has-text('Seedlings')")
        assert page.inner_html("#preview em") == "finally"
        page.click("button[value=save]")
        page.wait_for_selector("text=Saved.")
        page.fill("#body_md", "## Seedlings\n\nThey *finally* came up. Autosaved line.")
        page.wait_for_selector("#autosave-status:has-text('Draft saved')")
        db.session.expire_all()
        issue = db.session.query(Issue).one()
        assert "Autosaved line." in issue.body_md
        page.fill("[name=publish_at]", "2099-06-01T08:00")
        page.click("button[value=schedule]")
        page.wait_for_selector("text=Scheduled for")
        db.session.expire_all()
        issue = db.session.get(Issue, issue.id)
        assert issue.status == "scheduled"
        page.goto(f"{base}/issues/{issue.slug}")
        assert "We couldn’t find that page" in page.content()
        # the beat task runs at the scheduled time (moved forward, not waited for)
        assert scheduling.publish_due(now=issue.publish_at + timedelta(minutes=1)) == [issue.id]
        page.goto(f"{base}/issues/{issue.slug}")
        assert page.inner_text("h1") == "Letters from the garden"
        assert "Issue #1" in page.content() and "June 1, 2099" in page.content()


@pytest.mark.browser
def test_a_new_issue_is_autosaved_before_it_is_ever_submitted(app, admin, live_server, page):
    log_in(page, live_server)
    page.goto(f"{live_server}/admin/issues/new")
    page.fill("[name=title]", "Typed, never saved")
    page.fill("#body_md", "First words.")
    page.wait_for_selector("#autosave-status:has-text('Draft saved')")
    page.fill("#body_md", "First words. And more.")

    def saved_twice():
        db.session.expire_all()
        issues = db.session.query(Issue).all()
        db.session.rollback()
        return issues if issues and issues[0].body_md == "First words. And more." else None

    (issue,) = processes.wait_for(saved_twice, timeout=20, what="the second autosave")
    assert issue.title == "Typed, never saved" and issue.status == "draft"
    assert issue.body_md == "First words. And more."
    assert page.url.endswith(f"/admin/issues/{issue.id}")
