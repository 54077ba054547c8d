"""Reply notifications: double opt-in, approved replies only, never a spam relay."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from service.comments import reply_consent, reply_notices
from service.core import queue, tokens
from service.extensions import db
from service.models import Comment, ReplySubscription, Subscriber
from service.models.base import utcnow
from service.moderation import actions, decisions
from service.web.comments import COOKIE, COOKIE_PURPOSE
from tests.comments.conftest import post_comment
from tests.factories import make_comment, make_issue
from tests.support import processes

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


def _post_and_approve(client, issue, **fields) -> Comment:
    post_comment(client, issue, **fields)
    comment = db.session.scalars(select(Comment).order_by(Comment.id.desc())).first()
    actions.act("approve", [comment.id], "bob@example.com")
    return comment


def test_no_confirmation_email_before_a_moderator_or_the_rules_approve(
    app, client, smtp, enqueued, monkeypatch
):
    monkeypatch.setattr(queue, "enqueue", lambda name, *args, **kw: enqueued.append((name, *args)))
    issue = make_issue()
    post_comment(client, issue, email=PARENT_EMAIL, notify_replies="1", comment="Buy pills.")
    held = db.session.scalars(select(Comment)).one()
    assert decisions.moderate_comment(held.id) == "held"  # a first comment: held
    assert db.session.scalar(select(ReplySubscription)) is None
    assert not [task for task in enqueued if task[0] == "comments.send_reply_optin"]
    actions.act("spam", [held.id], "bob@example.com")
    later = utcnow() + timedelta(minutes=2)
    assert reply_consent.unsent_optins(now=later) == []  # the sweep sends nothing either
    assert smtp.sink.messages == []
    actions.act("approve", [held.id], "bob@example.com")  # not spam after all
    row = db.session.scalar(select(ReplySubscription))
    assert ("comments.send_reply_optin", row.id) in enqueued


def test_ticking_the_box_sends_one_confirmation_link(app, client, smtp, enqueued, monkeypatch):
    monkeypatch.setattr(queue, "enqueue", lambda name, *args, **kw: enqueued.append((name, *args)))
    issue = make_issue()
    _post_and_approve(client, issue, email=PARENT_EMAIL, notify_replies="1")
    row = db.session.scalar(select(ReplySubscription))
    assert row.status == "pending"
    assert ("comments.send_reply_optin", row.id) in enqueued
    assert reply_consent.send_optin(row.id) is True
    assert reply_consent.send_optin(row.id) is False  # at most one a day
    (message,) = smtp.sink.to(PARENT_EMAIL)
    assert "Confirm" in message["Subject"]


def test_a_lost_confirmation_enqueue_is_swept_up(app, client, smtp, enqueued):
    issue = make_issue()
    _post_and_approve(client, issue, email=PARENT_EMAIL, notify_replies="1")  # enqueue "lost"
    row = db.session.scalar(select(ReplySubscription))
    assert reply_consent.unsent_optins() == []  # younger than a minute: maybe in flight
    later = utcnow() + timedelta(minutes=2)
    assert reply_consent.unsent_optins(now=later) == [row.id]
    reply_consent.send_optin(row.id)
    assert reply_consent.unsent_optins(now=later) == []
    assert len(smtp.sink.to(PARENT_EMAIL)) == 1


def test_confirmation_link_shows_a_page_and_the_button_confirms(app, client, smtp):
    issue = make_issue()
    _post_and_approve(client, issue, email=PARENT_EMAIL, notify_replies="1")
    row = db.session.scalar(select(ReplySubscription))
    reply_consent.send_optin(row.id)
    path = _link(smtp.sink.messages[0], r"http://margins\.test/\S+")
    page = client.get(path)
    assert page.status_code == 200 and "Yes, email me replies" in page.get_data(as_text=True)
    assert reply_consent.consent(PARENT_EMAIL) == "pending"  # a GET changes nothing
    assert client.post(path).status_code == 200
    assert reply_consent.consent(PARENT_EMAIL) == "confirmed"


def test_unconfirmed_addresses_get_no_notifications(app, smtp):
    _, _, reply = _thread()
    assert reply_notices.notify(reply.id) == 0
    assert smtp.sink.messages == []


def test_an_approved_reply_notifies_the_confirmed_parent_author(app, smtp):
    _confirmed()
    issue, _, reply = _thread()
    assert reply_notices.notify(reply.id) == 1
    assert reply_notices.notify(reply.id) == 0  # idempotent
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
    assert reply_notices.notify(reply.id) == 0
    assert smtp.sink.messages == []


def test_nobody_is_notified_of_their_own_reply(app, smtp):
    _confirmed()
    _, _, reply = _thread(email=PARENT_EMAIL.upper())
    assert reply_notices.notify(reply.id) == 0
    assert smtp.sink.messages == []


def test_at_most_three_notifications_per_hour_per_recipient(app, smtp):
    _confirmed()
    issue, parent, first = _thread()
    replies = [first] + [
        make_comment(issue, parent=parent, body=f"More {n}.", email=f"r{n}@example.net")
        for n in range(3)
    ]
    assert [reply_notices.notify(r.id) for r in replies] == [1, 1, 1, 0]
    assert len(smtp.sink.to(PARENT_EMAIL)) == 3


def test_active_subscribers_need_no_second_confirmation(app, smtp):
    db.session.add(Subscriber(email=PARENT_EMAIL, status="active"))
    db.session.commit()
    assert reply_consent.prepare_optin(PARENT_EMAIL) is None
    _, _, reply = _thread()
    assert reply_notices.notify(reply.id) == 1


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_one_click_stop_works_without_a_csrf_token(app, client, smtp):
    app.config["SMTP_URL"] = smtp.url
    _confirmed()
    issue, parent, reply = _thread()
    reply_notices.notify(reply.id)
    stop = urlsplit(smtp.sink.messages[0]["List-Unsubscribe"].strip("<>")).path
    assert "Stop reply emails" in client.get(stop).get_data(as_text=True)
    response = client.post(stop, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert reply_consent.consent(PARENT_EMAIL) == "stopped"
    later = make_comment(issue, parent=parent, body="Later.", email="later@example.net")
    assert reply_notices.notify(later.id) == 0


def test_a_stop_link_cannot_confirm(app):
    row = _confirmed()
    stop_token = tokens.make(reply_consent.STOP_PURPOSE, row.id)
    with pytest.raises(tokens.TokenError):
        reply_consent.confirm(stop_token)


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_posted_reply_is_moderated_by_a_real_worker_and_notifies(app, client, smtp, run_worker):
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


def _subscriber(email: str = PARENT_EMAIL) -> Subscriber:
    sub = Subscriber(email=email, status="active", confirmed_at=utcnow() - timedelta(days=3))
    db.session.add(sub)
    db.session.commit()
    return sub


def test_turning_replies_off_in_the_newsletter_preferences_stops_them(app, client, smtp):
    sub = _subscriber()
    issue, parent, reply = _thread()
    assert reply_notices.notify(reply.id) == 1
    prefs = f"/subscribe/preferences/{tokens.make('preferences', sub.id)}"
    client.post(prefs, data={"delivery": "issue", "name": ""})  # the box unticked
    assert reply_consent.consent(PARENT_EMAIL) == "stopped"
    second = make_comment(issue, parent=parent, body="Second.", email="b@example.net")
    assert reply_notices.notify(second.id) == 0
    client.post(prefs, data={"delivery": "issue", "name": "", "reply_notifications": "1"})
    assert reply_consent.consent(PARENT_EMAIL) == "confirmed"
    third = make_comment(issue, parent=parent, body="Third.", email="c@example.net")
    assert reply_notices.notify(third.id) == 1
    assert len(smtp.sink.to(PARENT_EMAIL)) == 2


@pytest.mark.parametrize("ending", ["unsubscribe", "bounce", "complaint"])
def test_leaving_the_newsletter_stops_reply_notifications(app, smtp, ending):
    from service.newsletter import bounces, subscriptions

    sub = _subscriber()
    issue, parent, reply = _thread()
    assert reply_notices.notify(reply.id) == 1  # stores a confirmed reply row
    if ending == "unsubscribe":
        subscriptions.unsubscribe(sub.id)
    else:
        bounces.process_event(ending, PARENT_EMAIL)
    assert reply_consent.consent(PARENT_EMAIL) == "stopped"
    assert db.session.scalar(select(ReplySubscription.status)) == "stopped"
    later = make_comment(issue, parent=parent, body="Later.", email="later@example.net")
    assert reply_notices.notify(later.id) == 0
    assert len(smtp.sink.to(PARENT_EMAIL)) == 1


def test_replies_confirmed_again_after_unsubscribing_are_sent(app, client, smtp):
    from service.newsletter import subscriptions

    subscriptions.unsubscribe(_subscriber().id)
    issue, parent, reply = _thread()
    assert reply_notices.notify(reply.id) == 0
    row_id = reply_consent.prepare_optin(PARENT_EMAIL)
    db.session.commit()
    reply_consent.send_optin(row_id)
    client.post(_link(smtp.sink.messages[0], r"http://margins\.test/\S+"))
    assert reply_consent.consent(PARENT_EMAIL) == "confirmed"
    later = make_comment(issue, parent=parent, body="Later.", email="later@example.net")
    assert reply_notices.notify(later.id) == 1


def test_a_notification_that_failed_to_send_is_retried_by_the_sweep(app, smtp):
    from service.models import ReplyNotice
    from tests.support.servers import free_port

    _confirmed()
    _, _, reply = _thread()
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"  # the mail server is down
    assert reply_notices.notify(reply.id) == 0
    assert reply_notices.notify(reply.id) == 0  # claimed: no second claim, no duplicate
    assert db.session.scalars(select(ReplyNotice.status)).all() == ["pending"]
    app.config["SMTP_URL"] = smtp.url
    assert reply_notices.retry_unsent() == 0  # too young: the first try may be running
    later = utcnow() + timedelta(minutes=10)
    assert reply_notices.retry_unsent(now=later) == 1
    assert reply_notices.retry_unsent(now=later + timedelta(minutes=10)) == 0
    (message,) = smtp.sink.to(PARENT_EMAIL)
    assert "I disagree, kindly." in message.get_body(preferencelist=("plain",)).get_content()
    db.session.expire_all()
    assert db.session.scalars(select(ReplyNotice.status)).all() == ["sent"]


def test_no_transaction_is_open_while_talking_to_smtp(app, smtp, transactions_at_send):
    from service.models import ReplyNotice

    _confirmed()
    issue, parent, reply = _thread()
    assert reply_notices.notify(reply.id) == 1
    other = make_comment(issue, parent=parent, body="Retry me.", email="x@example.net")
    db.session.add(
        ReplyNotice(
            comment_id=other.id,
            email=PARENT_EMAIL,
            status="pending",
            attempts=1,
            sent_at=utcnow() - timedelta(hours=2),
        )
    )
    db.session.commit()
    assert reply_notices.retry_unsent() == 1
    optin = reply_consent.prepare_optin("newcomer@example.net")
    db.session.commit()
    assert reply_consent.send_optin(optin)
    assert transactions_at_send == [False, False, False]


def test_an_automatic_approval_sends_the_confirmation(app, client, smtp, enqueued, monkeypatch):
    from service.core import settings

    monkeypatch.setattr(queue, "enqueue", lambda name, *args, **kw: enqueued.append((name, *args)))
    settings.put("moderation.require_known", False)
    db.session.commit()
    issue = make_issue()
    post_comment(client, issue, email=PARENT_EMAIL, notify_replies="1")
    comment = db.session.scalars(select(Comment)).one()
    assert db.session.scalar(select(ReplySubscription)) is None  # nothing before the decision
    assert decisions.moderate_comment(comment.id) == "approved"
    row = db.session.scalar(select(ReplySubscription))
    assert ("comments.send_reply_optin", row.id) in enqueued
    assert reply_consent.send_optin(row.id) is True
    assert "Confirm" in smtp.sink.to(PARENT_EMAIL)[0]["Subject"]
