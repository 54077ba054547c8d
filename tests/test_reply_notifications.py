"""Reply notifications: double opt-in, approved replies only, never a spam relay."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from service import reply_notifications, tokens
from service.extensions import db
from service.models import Comment, ReplySubscription, Subscriber
from service.models.base import utcnow
from service.web.comments import COOKIE, COOKIE_PURPOSE
from tests.factories import make_comment, make_issue
from tests.support import processes
from tests.test_comments import enqueued, post_comment  # noqa: F401  (fixture)

PARENT_EMAIL = "parent.author@example.net"


@pytest.fixture
def app_config(smtp):
    return {"SMTP_URL": smtp.url}


def _link(message, pattern: str) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()
    return urlsplit(re.search(pattern, text).group(0)).path


def _confirmed(email: str = PARENT_EMAIL) -> ReplySubscription:
    row = ReplySubscription(email=email, status="confirmed")
    db.session.add(row)
    db.session.commit()
    return row


def _thread(**reply_fields):
    issue = make_issue("Notes in the margin")
    parent = make_comment(
        issue, body="My point.", email=PARENT_EMAIL, notify_replies=True, minutes_ago=30
    )
    fields = {"name": "Replying Rae", "email": "rae@example.net", "body": "I disagree, kindly."}
    fields.update(reply_fields)
    reply = make_comment(issue, parent=parent, **fields)
    return issue, parent, reply


def test_ticking_the_box_sends_one_confirmation_link(app, client, smtp, enqueued):  # noqa: F811
    issue = make_issue()
    post_comment(client, issue, email=PARENT_EMAIL, notify_replies="1")
    row = db.session.scalar(select(ReplySubscription))
    assert row.status == "pending"
    assert ("comments.send_reply_optin", row.id) in enqueued
    assert reply_notifications.send_optin(row.id) is True
    assert reply_notifications.send_optin(row.id) is False  # at most one a day
    (message,) = smtp.sink.to(PARENT_EMAIL)
    assert "Confirm" in message["Subject"]


def test_a_lost_confirmation_enqueue_is_swept_up(app, client, smtp, enqueued):  # noqa: F811
    issue = make_issue()
    post_comment(client, issue, email=PARENT_EMAIL, notify_replies="1")  # enqueue "lost"
    row = db.session.scalar(select(ReplySubscription))
    assert reply_notifications.unsent_optins() == []  # younger than a minute: maybe in flight
    later = utcnow() + timedelta(minutes=2)
    assert reply_notifications.unsent_optins(now=later) == [row.id]
    reply_notifications.send_optin(row.id)
    assert reply_notifications.unsent_optins(now=later) == []
    assert len(smtp.sink.to(PARENT_EMAIL)) == 1


def test_confirmation_link_shows_a_page_and_the_button_confirms(app, client, smtp):
    issue = make_issue()
    post_comment(client, issue, email=PARENT_EMAIL, notify_replies="1")
    row = db.session.scalar(select(ReplySubscription))
    reply_notifications.send_optin(row.id)
    path = _link(smtp.sink.messages[0], r"http://margins\.test/\S+")
    page = client.get(path)
    assert page.status_code == 200 and "Yes, email me replies" in page.get_data(as_text=True)
    assert reply_notifications.consent(PARENT_EMAIL) == "pending"  # a GET changes nothing
    assert client.post(path).status_code == 200
    assert reply_notifications.consent(PARENT_EMAIL) == "confirmed"


def test_unconfirmed_addresses_get_no_notifications(app, smtp):
    _, _, reply = _thread()
    assert reply_notifications.notify(reply.id) == 0
    assert smtp.sink.messages == []


def test_an_approved_reply_notifies_the_confirmed_parent_author(app, smtp):
    _confirmed()
    issue, _, reply = _thread()
    assert reply_notifications.notify(reply.id) == 1
    assert reply_notifications.notify(reply.id) == 0  # idempotent
    (message,) = smtp.sink.messages
    assert message["To"] == PARENT_EMAIL
    assert message["Subject"] == "Replying Rae replied to your comment on “Notes in the margin”"
    assert message["List-Unsubscribe"].startswith("<http://margins.test/comments/replies/stop/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert f"/issues/{issue.slug}#comment-{reply.id}" in body and "I disagree, kindly." in body


def test_pending_replies_notify_nobody(app, smtp):
    _confirmed()
    _, _, reply = _thread(status="pending")
    assert reply_notifications.notify(reply.id) == 0
    assert smtp.sink.messages == []


def test_nobody_is_notified_of_their_own_reply(app, smtp):
    _confirmed()
    _, _, reply = _thread(email=PARENT_EMAIL.upper())
    assert reply_notifications.notify(reply.id) == 0
    assert smtp.sink.messages == []


def test_at_most_three_notifications_per_hour_per_recipient(app, smtp):
    _confirmed()
    issue, parent, first = _thread()
    replies = [first] + [
        make_comment(issue, parent=parent, body=f"More {n}.", email=f"r{n}@example.net")
        for n in range(3)
    ]
    assert [reply_notifications.notify(r.id) for r in replies] == [1, 1, 1, 0]
    assert len(smtp.sink.to(PARENT_EMAIL)) == 3


def test_active_subscribers_need_no_second_confirmation(app, smtp):
    db.session.add(Subscriber(email=PARENT_EMAIL, status="active"))
    db.session.commit()
    assert reply_notifications.prepare_optin(PARENT_EMAIL) is None
    _, _, reply = _thread()
    assert reply_notifications.notify(reply.id) == 1


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_one_click_stop_works_without_a_csrf_token(app, client, smtp):
    app.config["SMTP_URL"] = smtp.url
    _confirmed()
    issue, parent, reply = _thread()
    reply_notifications.notify(reply.id)
    stop = urlsplit(smtp.sink.messages[0]["List-Unsubscribe"].strip("<>")).path
    assert "Stop reply emails" in client.get(stop).get_data(as_text=True)
    response = client.post(stop, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert reply_notifications.consent(PARENT_EMAIL) == "stopped"
    later = make_comment(issue, parent=parent, body="Later.", email="later@example.net")
    assert reply_notifications.notify(later.id) == 0


def test_a_stop_link_cannot_confirm(app):
    row = _confirmed()
    stop_token = tokens.make(reply_notifications.STOP_PURPOSE, row.id)
    with pytest.raises(tokens.TokenError):
        reply_notifications.confirm(stop_token)


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_posted_reply_is_moderated_by_a_real_worker_and_notifies(
    app, client, smtp, run_worker
):
    run_worker(SMTP_URL=smtp.url)
    _confirmed()
    # Rae was approved before from this browser: moderation lets her follow-up through.
    issue, parent, _ = _thread(author_token="rae-browser", minutes_ago=60)
    client.set_cookie(COOKIE, tokens.make(COOKIE_PURPOSE, {"t": "rae-browser"}))
    response = post_comment(
        client,
        issue,
        author="Replying Rae",
        email="rae@example.net",
        comment="Back with a follow-up.",
        comment_parent=str(parent.id),
    )
    assert response.status_code == 303
    (message,) = processes.wait_for(
        lambda: smtp.sink.to(PARENT_EMAIL),
        timeout=60,
        what="the reply notification from the worker",
    )
    assert "Back with a follow-up." in message.get_body(preferencelist=("plain",)).get_content()
    reply = db.session.scalar(select(Comment).where(Comment.body_md == "Back with a follow-up."))
    assert (reply.status, reply.moderation_due) == ("approved", False)
