"""The rendered-thread cache: served from memory, and never stale after any change."""

from __future__ import annotations

import re
import textwrap
from datetime import timedelta

import pytest
from sqlalchemy import text

from service.comments import data_requests, guards, page_cache
from service.core import settings
from service.extensions import db
from service.importers import wxr
from service.models import Comment, Issue
from service.models.base import utcnow
from service.moderation import actions, decisions
from service.publishing import writing
from tests.factories import make_comment, make_issue
from tests.support.queries import statements


def comment_queries():
    """Collect the SQL statements that read the comments table."""
    return statements("FROM comments")


def page(client, issue) -> str:
    slug = db.session.get(Issue, issue.id).slug
    response = client.get(f"/issues/{slug}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.fixture
def issue(app):
    return make_issue("Cached")


@pytest.fixture
def warm(client, issue):
    """An issue with one approved comment whose page has been rendered (and cached) once."""
    comment = make_comment(issue, body="First and *approved*.", name="Ada")
    assert "1 response to “Cached”" in page(client, issue)
    return comment


def test_second_view_is_served_without_reading_comments(client, issue, warm):
    with comment_queries() as seen:
        again = page(client, issue)
    assert "First and <em>approved</em>." in again
    assert seen == []


def test_approving_shows_the_comment(client, issue, warm):
    held = make_comment(issue, body="Held for a moderator.", status="pending")
    assert "Held for a moderator." not in page(client, issue)
    actions.act("approve", [held.id], "mod@example.com")
    shown = page(client, issue)
    assert "Held for a moderator." in shown and "2 responses" in shown


def test_spam_reject_restore_and_delete_each_change_the_page(client, issue, warm):
    actions.act("spam", [warm.id], "mod")
    assert "First and" not in page(client, issue)
    actions.act("notspam", [warm.id], "mod")
    assert "First and" in page(client, issue)
    actions.act("reject", [warm.id], "mod")
    assert "No responses yet" in page(client, issue)
    actions.act("restore", [warm.id], "mod")
    assert "1 response to" in page(client, issue)
    actions.act("delete", [warm.id], "mod")
    assert "No responses yet" in page(client, issue)


def test_worker_decision_shows_the_comment(client, issue, warm):
    held = make_comment(
        issue, body="Waiting for the worker.", status="pending", moderation_due=True
    )
    assert "Waiting for the worker." not in page(client, issue)
    settings.put("moderation.require_known", False)
    db.session.commit()
    assert decisions.moderate_comment(held.id) == "approved"
    assert "Waiting for the worker." in page(client, issue)


def test_edit_and_author_reply_show_at_once(client, issue, warm, admin):
    actions.edit(warm.id, "mod", "Ada L.", "ada@example.net", "", "Edited *text*.")
    shown = page(client, issue)
    assert "Edited <em>text</em>." in shown and "Ada L." in shown
    actions.reply_as_author(warm.id, admin, "Thanks, Ada.")
    shown = page(client, issue)
    assert "Thanks, Ada." in shown and "2 responses" in shown


def test_commenter_erasing_their_comments_empties_the_page(client, issue, warm):
    assert data_requests.delete_all(warm.avatar_key) == 1
    assert "No responses yet" in page(client, issue)


def test_raw_sql_change_is_seen_too(client, issue, warm):
    db.session.execute(text("UPDATE comments SET body_html = '<p>Changed by SQL.</p>'"))
    db.session.commit()
    assert "Changed by SQL." in page(client, issue)


def test_issue_title_edit_and_closing_comments_change_the_thread(client, issue, warm):
    writing.save(issue.id, {"title": "Renamed", "body_md": "Body."})
    assert "1 response to “Renamed”" in page(client, issue)
    assert 'class="comment-reply-link"' in page(client, issue)
    writing.save(issue.id, {"title": "Renamed", "comments_open": False})
    closed = page(client, issue)
    assert "Comments on this entry are closed." in closed
    assert 'class="comment-reply-link"' not in closed


def test_automatic_closing_after_days_removes_reply_links(client, app):
    old = make_issue("Old one", days_ago=10)
    make_comment(old, body="From long ago.")
    assert 'class="comment-reply-link"' in page(client, old)
    settings.put("comments.close_after_days", 5)
    db.session.commit()
    closed = page(client, old)
    assert "From long ago." in closed and 'class="comment-reply-link"' not in closed


def test_max_depth_setting_applies_at_once(client, issue, warm):
    reply = make_comment(issue, body="Level two.", parent=warm)
    assert "depth-2" in page(client, issue)
    settings.put("comments.max_depth", 1)
    db.session.commit()
    shown = page(client, issue)
    assert "Level two." in shown and "depth-2" not in shown
    assert reply.id


def test_pending_comment_is_shown_only_to_its_author(app, client, issue, warm):
    author = app.test_client()
    response = author.post(
        f"/issues/{issue.slug}/comments",
        data={
            "author": "Penny",
            "email": "penny@example.net",
            "comment": "My pending words.",
            "stamp": guards.form_stamp(issue.id, now=utcnow() - timedelta(seconds=30)),
        },
    )
    assert response.status_code == 303
    mine = page(author, issue)
    assert "My pending words." in mine and "awaiting moderation" in mine
    assert "My pending words." not in page(client, issue)  # the shared, cached thread
    assert "My pending words." in page(author, issue)  # still fresh for its author
    fresh_reader = app.test_client()
    assert "My pending words." not in page(fresh_reader, issue)


def test_import_adding_comments_to_an_existing_issue_shows_them(client, app, tmp_path):
    first = tmp_path / "one.xml"
    second = tmp_path / "two.xml"
    first.write_text(_wxr([(1, "Imported first.")]))
    second.write_text(_wxr([(1, "Imported first."), (2, "Imported later.")]))
    wxr.import_file(str(first))
    imported = db.session.scalar(db.select(Issue).where(Issue.title == "Imported post"))
    assert "Imported first." in page(client, imported)
    wxr.import_file(str(second))
    shown = page(client, imported)
    assert "Imported later." in shown and "2 responses" in shown


def test_cache_size_zero_turns_it_off(app, client, issue, warm):
    app.extensions.pop("margins_thread_cache", None)
    app.config["THREAD_CACHE_SIZE"] = 0
    with comment_queries() as seen:
        assert "First and" in page(client, issue)
    assert seen
    assert len(page_cache.cache()) == 0


def test_comment_rows_bump_the_issue_version(app, issue):
    before = db.session.scalar(db.select(Issue.comments_version).where(Issue.id == issue.id))
    comment = make_comment(issue)
    comment.user_agent = "not shown on the page"
    db.session.commit()
    after = db.session.scalar(db.select(Issue.comments_version).where(Issue.id == issue.id))
    assert after == before + 1
    db.session.delete(db.session.get(Comment, comment.id))
    db.session.commit()
    assert (
        db.session.scalar(db.select(Issue.comments_version).where(Issue.id == issue.id))
        == before + 2
    )


def _wxr(comments: list[tuple[int, str]]) -> str:
    items = "".join(
        textwrap.dedent(f"""
        <wp:comment>
          <wp:comment_id>{cid}</wp:comment_id>
          <wp:comment_author>Importer {cid}</wp:comment_author>
          <wp:comment_author_email>imp{cid}@example.net</wp:comment_author_email>
          <wp:comment_date_gmt>2011-02-04 08:5{cid}:00</wp:comment_date_gmt>
          <wp:comment_content>{body}</wp:comment_content>
          <wp:comment_approved>1</wp:comment_approved>
          <wp:comment_parent>0</wp:comment_parent>
        </wp:comment>""")
        for cid, body in comments
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
  xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel><title>Blog</title><link>https://blog.example.org</link>
<wp:wxr_version>1.2</wp:wxr_version><wp:base_site_url>https://blog.example.org</wp:base_site_url>
<item><title>Imported post</title><dc:creator>ann</dc:creator>
<content:encoded><![CDATA[Hello.]]></content:encoded>
<wp:post_id>7</wp:post_id><wp:post_date_gmt>2011-02-01 10:00:00</wp:post_date_gmt>
<wp:post_name>imported-post</wp:post_name><wp:status>publish</wp:status>
<wp:post_type>post</wp:post_type><wp:comment_status>open</wp:comment_status>{items}
</item></channel></rss>"""


def test_site_timezone_change_shows_new_times(client, issue, warm):
    def comment_time(html: str) -> str:
        return re.search(r'class="comment-permalink"[^>]*><time[^>]*>([^<]+)<', html).group(1)

    before = comment_time(page(client, issue))
    settings.put("site.timezone", "Asia/Tokyo")
    db.session.commit()
    assert comment_time(page(client, issue)) != before
