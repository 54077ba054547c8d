"""A reader in a real browser: posts a comment, sees it awaiting moderation, replies to another."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from service.core import settings
from service.extensions import db
from service.models import Comment
from tests.factories import make_comment, make_issue


def _fill(page, body: str) -> None:
    page.fill("#comment", body)
    page.fill("#author", "Brenda Browser")
    page.fill("#email", "brenda@example.net")


@pytest.mark.browser
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_reader_comments_then_replies_in_a_browser(app, live_server, page):
    settings.put("comments.min_seconds", 0)  # the robot types faster than the time trap allows
    settings.put("comments.flood_seconds", 0)
    db.session.commit()
    issue = make_issue("Browsing the margins")
    ann = make_comment(issue, name="Ann Approved", body="An approved thought.", minutes_ago=60)

    page.goto(f"{live_server}/issues/{issue.slug}")
    _fill(page, "My first comment from a browser.")
    page.click("#submit")
    page.wait_for_selector(".comment-awaiting-moderation")
    assert "Your comment is awaiting moderation" in page.content()

    page.click(f'a.comment-reply-link[data-comment-id="{ann.id}"]')
    assert page.locator(f"#comment-{ann.id} #respond").count() == 1  # the form moved under Ann
    assert page.input_value("#comment_parent") == str(ann.id)
    assert "Leave a Reply to Ann Approved" in page.inner_text("#reply-title")
    _fill(page, "Replying to Ann from a browser.")
    page.click("#submit")
    page.wait_for_selector(f"#comment-{ann.id} .children .comment-awaiting-moderation")

    db.session.expire_all()
    reply = db.session.scalar(select(Comment).where(Comment.parent_id == ann.id))
    assert reply.body_md == "Replying to Ann from a browser." and reply.status == "pending"
