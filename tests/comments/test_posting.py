"""Posting comments: storage, moderation hand-off, the form, validation, guards and closing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from kombu.exceptions import OperationalError

from service.comments import guards
from service.core import settings
from service.extensions import db
from service.moderation import feed
from tests.comments.conftest import post_comment, stored
from tests.factories import make_comment, make_issue


def test_posted_comment_is_pending_and_the_feed_enqueues_its_moderation(app, client, enqueued):
    issue = make_issue("Margins")
    response = post_comment(client, issue, comment="I *like* this.")
    comment = stored()[0]
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/issues/{issue.slug}#comment-{comment.id}")
    assert (comment.status, comment.moderation_due) == ("pending", True)
    assert comment.body_html == "<p>I <em>like</em> this.</p>\n"
    assert comment.author_token and comment.author_ip == "127.0.0.1"
    assert enqueued == []  # the post wrote one row and nothing else
    assert feed.dispatch() == 1  # what a worker's feed does on its next poll
    assert enqueued == [("moderation.moderate_comment", comment.id)]
    assert feed.dispatch() == 0  # claimed: no second task


def test_posting_succeeds_when_the_broker_is_down(app, client, monkeypatch):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to the broker. Connection refused.")

    monkeypatch.setattr(app.extensions["celery"], "send_task", broker_down)
    issue = make_issue()
    response = post_comment(client, issue)
    assert response.status_code == 303
    comment = stored()[0]
    assert comment.status == "pending" and comment.moderation_due is True  # the feed's to-do


def test_only_the_author_sees_their_comment_awaiting_moderation(app, client):
    issue = make_issue()
    post_comment(client, issue, comment="My pending words.")
    mine = client.get(f"/issues/{issue.slug}").get_data(as_text=True)
    assert "Your comment is awaiting moderation" in mine and "My pending words." in mine
    theirs = app.test_client().get(f"/issues/{issue.slug}").get_data(as_text=True)
    assert "awaiting moderation" not in theirs and "My pending words." not in theirs
    assert "No responses yet" in theirs


def test_the_form_says_what_wordpress_says(app, client):
    issue = make_issue()
    html = client.get(f"/issues/{issue.slug}").get_data(as_text=True)
    for text in (
        "Leave a Reply",
        "Name *",
        "Email *",
        "Website",
        "Comment *",
        "Your email address will not be published. Required fields are marked *",
        "Email me replies to my comment",
        "Save my name, email, and website for the next time",
    ):
        assert text in html
    assert f'action="/issues/{issue.slug}/comments"' in html


def test_the_form_remembers_details_only_when_asked(app, client):
    settings.put("comments.flood_seconds", 0)
    db.session.commit()
    issue = make_issue()
    post_comment(
        client, issue, author="Forgetful Fay", email="fay@example.net", url="https://fay.example"
    )
    html = client.get(f"/issues/{issue.slug}").get_data(as_text=True)
    assert 'value="Forgetful Fay"' not in html and 'value="fay@example.net"' not in html
    post_comment(
        client,
        issue,
        author="Forgetful Fay",
        email="fay@example.net",
        url="https://fay.example",
        comment="Second thought.",
        remember="1",
    )
    response = client.get(f"/issues/{issue.slug}")
    html = response.get_data(as_text=True)
    assert 'value="Forgetful Fay"' in html and 'value="fay@example.net"' in html
    assert 'value="https://fay.example"' in html
    assert response.headers["Cache-Control"] == "private, no-store"


def test_every_comment_carries_the_cookie_token(app, client):
    settings.put("comments.flood_seconds", 0)
    db.session.commit()
    issue = make_issue()
    post_comment(client, issue, comment="One.")
    post_comment(client, issue, comment="Two.")
    first, second = stored()
    assert first.author_token and first.author_token == second.author_token
    post_comment(app.test_client(), issue, comment="Someone else.", email="other@example.net")
    assert stored()[2].author_token not in ("", first.author_token)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("author", "", "Please enter your name."),
        ("comment", "   ", "Please enter your comment."),
        ("author", "n" * 246, "Your name is too long (at most 245 characters)."),
        (
            "email",
            "e" * 90 + "@example.net",
            "Your email address is too long (at most 100 characters).",
        ),
        (
            "url",
            "https://example.org/" + "u" * 190,
            "Your website address is too long (at most 200",
        ),
        ("comment", "c" * 65526, "Your comment is too long (at most 65,525 characters)."),
        ("author", "Rita\r\nBcc: victim@example.org", "Your name may not contain line breaks"),
        ("email", "rita@example.net\nBcc: x@example.org", "may not contain line breaks"),
        ("email", "not-an-address", "Please enter a valid email address."),
        ("url", "javascript:alert(1)", "starting with http:// or https://"),
    ],
)
def test_bad_fields_are_refused_with_a_clear_message(app, client, field, value, message):
    issue = make_issue()
    response = post_comment(client, issue, **{field: value})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert stored() == []


def test_too_many_links_are_refused(app, client):
    issue = make_issue()
    body = " ".join(f"https://link{n}.example" for n in range(11))
    response = post_comment(client, issue, comment=body)
    assert response.status_code == 400
    assert "at most 10 are allowed" in response.get_data(as_text=True)


def test_an_exact_duplicate_gets_a_409_page(app, client):
    issue = make_issue()
    make_comment(issue, body="Same words.", email="rita@example.net", minutes_ago=10)
    response = post_comment(client, issue, comment="Same words.")
    assert response.status_code == 409
    assert "Duplicate comment detected" in response.get_data(as_text=True)
    assert len(stored()) == 1


def test_duplicates_match_the_same_text_on_the_same_issue_from_the_same_name_or_email(app, client):
    settings.put("comments.flood_seconds", 0)
    db.session.commit()
    issue, other = make_issue("One"), make_issue("Two")
    make_comment(issue, body="Same words.", name="Rita", email="rita@example.net")
    same_name = post_comment(
        client, issue, comment="Same words.", author="Rita", email="someone@example.net"
    )
    assert same_name.status_code == 409
    assert (
        post_comment(
            client, issue, comment="Same words.", author="Sam", email="sam@example.net"
        ).status_code
        == 303
    )  # another reader
    assert (
        post_comment(
            client, other, comment="Same words.", author="Rita", email="rita@example.net"
        ).status_code
        == 303
    )  # another issue
    trashed = make_comment(
        issue, body="Taken back.", name="Rita", email="rita@example.net", status="trash"
    )
    assert (
        post_comment(
            client, issue, comment=trashed.body_md, author="Rita", email="rita@example.net"
        ).status_code
        == 303
    )  # trash does not count
    assert len(stored()) == 5


def test_a_second_comment_within_15_seconds_gets_a_429_page(app, client):
    issue = make_issue()
    assert post_comment(client, issue, comment="First.").status_code == 303
    response = post_comment(client, issue, comment="Second, too soon.", email="new@example.net")
    page = response.get_data(as_text=True)
    assert response.status_code == 429
    assert "You are posting comments too quickly" in page
    assert "Second, too soon." in page  # kept, so nothing is lost
    assert len(stored()) == 1


def test_replies_thread_under_approved_comments_only(app, client):
    issue = make_issue()
    approved = make_comment(issue, body="Approved.", minutes_ago=10)
    pending = make_comment(
        issue, body="Pending.", status="pending", email="p@example.net", minutes_ago=10
    )
    refused = post_comment(client, issue, comment_parent=str(pending.id))
    assert refused.status_code == 400
    assert "You can only reply to a published comment." in refused.get_data(as_text=True)
    assert post_comment(client, issue, comment_parent=str(approved.id)).status_code == 303
    assert stored()[-1].parent_id == approved.id


def test_closed_issue_shows_the_notice_and_refuses_posts(app, client):
    issue = make_issue(comments_open=False)
    html = client.get(f"/issues/{issue.slug}").get_data(as_text=True)
    assert "Comments on this entry are closed." in html and "Leave a Reply" not in html
    response = post_comment(client, issue)
    assert response.status_code == 403
    assert "Comments on this entry are closed." in response.get_data(as_text=True)
    assert stored() == []


def test_a_moment_old_copy_of_the_issue_never_lets_a_post_through(app, client):
    issue = make_issue("Closing")
    assert post_comment(client, issue, comment="While open.").status_code == 303
    # another process closes comments; this one still holds a copy saying "open"
    db.session.execute(
        db.text("UPDATE issues SET comments_open = false WHERE id = :id"), {"id": issue.id}
    )
    db.session.commit()
    response = post_comment(client, issue, comment="Too late.", email="late@example.net")
    assert response.status_code == 403
    assert "Comments on this entry are closed." in response.get_data(as_text=True)
    db.session.execute(
        db.text("UPDATE issues SET status = 'draft' WHERE id = :id"), {"id": issue.id}
    )
    db.session.commit()
    assert post_comment(client, issue, comment="Gone.", email="gone@example.net").status_code == 404
    assert len(stored()) == 1


def test_comments_close_automatically_after_n_days(app, client):
    settings.put("comments.close_after_days", 14)
    db.session.commit()
    fresh, old = make_issue(days_ago=13), make_issue(days_ago=15)
    assert "Leave a Reply" in client.get(f"/issues/{fresh.slug}").get_data(as_text=True)
    assert "Comments on this entry are closed." in client.get(f"/issues/{old.slug}").get_data(
        as_text=True
    )
    assert post_comment(client, old).status_code == 403


def test_honeypot_post_is_kept_as_spam_with_a_calm_answer(app, client, enqueued):
    issue = make_issue()
    response = post_comment(client, issue, homepage="http://cheap-pills.example")
    assert response.status_code == 200
    assert "Thank you for your comment" in response.get_data(as_text=True)
    comment = stored()[0]
    assert (comment.status, comment.moderation_due) == ("spam", False)
    assert "honeypot" in comment.decision_reasons
    assert enqueued == []


def test_instant_post_is_kept_as_spam(app, client):
    issue = make_issue()
    response = post_comment(client, issue, stamp=guards.form_stamp(issue.id))
    assert response.status_code == 200
    comment = stored()[0]
    assert comment.status == "spam" and "time trap" in comment.decision_reasons


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_csrf_failure_keeps_what_the_reader_typed(app, client):
    issue = make_issue()
    response = post_comment(
        client,
        issue,
        author="Careful Carl",
        email="carl@example.net",
        comment="Words I would hate to lose.",
        csrf_token="stale",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Nothing is lost" in page
    assert "Words I would hate to lose.</textarea>" in page and 'value="Careful Carl"' in page
    assert stored() == []


def test_comments_show_number_date_and_nofollow_website(app, client):
    app.config["TIMEZONE"] = "UTC"
    issue = make_issue()
    comment = make_comment(
        issue,
        name="Webby",
        author_url="https://webby.example",
        body="Hi [there](https://x.example).",
    )
    comment.created_at = datetime(2011, 2, 4, 8, 53, tzinfo=UTC)
    db.session.commit()
    html = client.get(f"/issues/{issue.slug}").get_data(as_text=True)
    assert f"1 response to “{issue.title}”" in html
    assert "February 4, 2011 at 8:53 am" in html
    assert '<a href="https://webby.example" rel="nofollow ugc">Webby</a>' in html
    assert 'rel="nofollow ugc noopener"' in html and "#1" in html


def test_comment_markdown_is_sanitized_when_stored(app, client):
    issue = make_issue()
    post_comment(
        client,
        issue,
        comment="> quoted\n\n<script>alert(1)</script> `code` [x](javascript:alert(1))",
    )
    html = stored()[0].body_html
    assert "<blockquote>" in html and "<code>code</code>" in html
    assert "<script" not in html and "&lt;script&gt;" in html and 'href="javascript' not in html


def test_reply_link_works_without_javascript(app, client):
    issue = make_issue()
    ann = make_comment(issue, name="Ann Approved")
    html = client.get(f"/issues/{issue.slug}").get_data(as_text=True)
    assert f'id="comment-{ann.id}"' in html and f'href="#comment-{ann.id}"' in html
    assert f'href="?replytocom={ann.id}#respond"' in html
    html = client.get(f"/issues/{issue.slug}?replytocom={ann.id}").get_data(as_text=True)
    assert 'Leave a Reply<span class="reply-to-name"> to Ann Approved</span>' in html
    assert f'name="comment_parent" id="comment_parent" value="{ann.id}"' in html


def test_avatars_are_local_svgs(app, client):
    issue = make_issue()
    comment = make_comment(issue)
    response = client.get(f"/avatar/{comment.avatar_key}.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert response.get_data(as_text=True).startswith("<svg")
    assert client.get("/avatar/not-a-key.svg").status_code == 404


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True}])
def test_one_ip_is_rate_limited_to_ten_posts_a_minute(app, client):
    settings.put("comments.flood_seconds", 0)
    db.session.commit()
    issue = make_issue()
    codes = [
        post_comment(client, issue, comment=f"Comment {n}.", email=f"r{n}@example.net").status_code
        for n in range(11)
    ]
    assert codes == [303] * 10 + [429]
    assert len(stored()) == 10
