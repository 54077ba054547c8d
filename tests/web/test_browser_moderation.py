"""In a real browser: a reader comments, a moderator approves it with the keyboard, it appears."""

from __future__ import annotations

import pytest

from service.core import settings
from service.extensions import db
from service.models import Comment
from service.moderation import decisions
from tests.factories import make_issue
from tests.support.browser import chromium, live_server

# SQLite only: the database file is shared with another process or thread
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}  # the keyboard script must send the CSRF token


def _comment(body: str) -> Comment:
    db.session.expire_all()
    comment = db.session.query(Comment).filter_by(body_md=body).one()
    db.session.rollback()
    return comment


@pytest.mark.browser
def test_post_then_approve_with_the_keyboard_then_see_it_published(app, moderator):
    issue = make_issue("Notes on moderation")
    settings.put("comments.min_seconds", 0)
    db.session.commit()
    body = "A reader's first thought, typed in a browser."
    with live_server(app) as base, chromium() as page:
        page.goto(f"{base}/issues/{issue.slug}")
        page.fill("#comment", body)
        page.fill("#author", "Rita Reader")
        page.fill("#email", "rita@example.net")
        page.click("#submit")
        page.wait_for_selector("text=Your comment is awaiting moderation")
        comment = _comment(body)
        assert comment.status == "pending"
        assert decisions.moderate_comment(comment.id) == "held"  # what the worker does

        reader = page.context.browser.new_page()
        reader.goto(f"{base}/issues/{issue.slug}")
        assert body not in reader.content()  # nobody else sees it yet
        reader.close()

        page.goto(f"{base}/login?next=/moderate/pending")
        page.fill("[name=email]", "bob@example.com")
        page.fill("[name=password]", "bob-password-12")
        page.click("button[type=submit]")
        page.wait_for_selector(f"#comment-{comment.id}.current")
        assert "first comment from this commenter" in page.inner_text(f"#comment-{comment.id}")
        page.keyboard.press("?")
        assert page.is_visible("#mod-help")
        page.keyboard.press("Escape")
        page.keyboard.press("a")
        page.wait_for_selector(f"#comment-{comment.id}", state="detached")
        assert "approved" in page.inner_text("#mod-status")
        assert _comment(body).status == "approved"

        page.goto(f"{base}/issues/{issue.slug}")
        assert body in page.inner_text("body")
        assert "rita@example.net" not in page.content()
