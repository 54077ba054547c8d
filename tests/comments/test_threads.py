"""The public thread: headings, numbering, nesting with a maximum depth, trackbacks, one query."""

from __future__ import annotations

import dataclasses

from service.comments import page_cache, threads
from service.core import settings
from service.extensions import db
from service.models import Comment
from service.models.base import utcnow
from tests.factories import make_comment, make_issue
from tests.support.queries import statements as counted_queries


def test_heading_counts_approved_comments_only(app):
    issue = make_issue("On Margins")
    assert threads.build(issue).heading == "No responses yet"
    make_comment(issue)
    assert threads.build(issue).heading == "1 response to “On Margins”"
    make_comment(issue, body="Another.")
    make_comment(issue, body="Held.", status="pending")
    make_comment(issue, body="Junk.", status="spam")
    assert threads.build(issue).heading == "2 responses to “On Margins”"


def test_comments_are_numbered_in_order_and_nested(app):
    issue = make_issue()
    first = make_comment(issue, body="First.", minutes_ago=30)
    second = make_comment(issue, body="Second.", minutes_ago=20)
    reply = make_comment(issue, body="Reply to first.", parent=first, minutes_ago=10)
    thread = threads.build(issue)
    assert [c.id for c in thread.comments] == [first.id, second.id]
    assert [(c.id, c.number, c.depth) for c in thread.comments[0].children] == [(reply.id, 3, 2)]
    assert thread.comments[1].number == 2


def test_replies_deeper_than_the_maximum_attach_to_the_deepest_level(app):
    settings.put("comments.max_depth", 2)
    db.session.commit()
    issue = make_issue()
    top = make_comment(issue, body="Top.", minutes_ago=40)
    level2 = make_comment(issue, body="Level 2.", parent=top, minutes_ago=30)
    level3 = make_comment(issue, body="Would be level 3.", parent=level2, minutes_ago=20)
    level4 = make_comment(issue, body="Would be level 4.", parent=level3, minutes_ago=10)
    thread = threads.build(issue)
    (root,) = thread.comments
    assert [(c.id, c.depth) for c in root.children] == [
        (level2.id, 2),
        (level3.id, 2),
        (level4.id, 2),
    ]


def test_pending_comments_show_only_to_the_browser_that_wrote_them(app):
    issue = make_issue()
    make_comment(issue, body="Mine.", status="pending", author_token="tok-1")
    assert threads.build(issue).comments == []
    assert threads.build(issue, viewer_token="tok-2").comments == []
    (mine,) = threads.build(issue, viewer_token="tok-1").comments
    assert mine.awaiting and mine.number is None


def test_pingbacks_are_listed_apart_as_trackbacks(app):
    issue = make_issue()
    make_comment(issue, body="A comment.")
    make_comment(
        issue,
        body="[…] linked […]",
        name="Other Blog",
        kind="pingback",
        author_url="https://other.example/post",
    )
    thread = threads.build(issue)
    assert thread.heading.startswith("1 response")
    assert thread.trackbacks_heading == "1 trackback"
    assert thread.trackbacks[0].url == "https://other.example/post"


def test_view_objects_have_no_email_field():
    for view in (threads.CommentView, threads.TrackbackView):
        names = {f.name for f in dataclasses.fields(view)}
        assert not any("mail" in name for name in names)


def test_unsafe_website_links_are_dropped(app):
    issue = make_issue()
    make_comment(issue, author_url="javascript:alert(1)")
    assert threads.build(issue).comments[0].author_url == ""


def test_thread_is_built_with_one_query(app):
    issue = make_issue()
    parent = make_comment(issue)
    db.session.add_all(
        Comment(
            issue_id=issue.id,
            parent_id=parent.id if n % 3 else None,
            author_name=f"R{n}",
            author_email=f"r{n}@example.net",
            body_html="<p>Hi</p>",
            status="approved",
            created_at=utcnow(),
        )
        for n in range(60)
    )
    db.session.commit()
    with counted_queries() as statements:
        thread = threads.build(issue)
    assert thread.count == 61
    assert len([s for s in statements if "FROM comments" in s]) == 1


def test_issue_page_queries_do_not_grow_with_comments(app, client):
    small, big = make_issue("Small"), make_issue("Big")
    make_comment(small)
    for issue, n in ((big, 120),):
        db.session.add_all(
            Comment(
                issue_id=issue.id,
                author_name=f"R{i}",
                author_email=f"r{i}@example.net",
                body_html="<p>Hi</p>",
                status="approved",
                created_at=utcnow(),
            )
            for i in range(n)
        )
    db.session.commit()
    for issue in (small, big):  # warm up caches (settings, templates, related issues)
        client.get(f"/issues/{issue.slug}")
    page_cache.cache().clear()  # measure rendering the threads, not the rendered-thread cache
    with counted_queries() as few:
        client.get(f"/issues/{small.slug}")
    with counted_queries() as many:
        page = client.get(f"/issues/{big.slug}").get_data(as_text=True)
    assert "120 responses to “Big”" in page
    assert len(many) == len(few)
