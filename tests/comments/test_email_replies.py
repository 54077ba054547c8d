"""Replies by email become pending comments, private letters, or nothing — never by trusting
From, never with an address on a public page, always through the comments' own checks."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from service.comments.email_replies import choices, mails, receiving
from service.comments.email_replies.receiving import Outcome
from service.core import queue, settings
from service.extensions import db
from service.models import Comment, CommentStatus, ReplyMail, ReplyStatus
from service.moderation import decisions, feed
from tests.comments.email_reply_helpers import (
    REPLY_DOMAIN,
    fixture_to,
    reader,
    replies,
    reply_message,
)
from tests.factories import make_issue


@pytest.fixture
def app_config(smtp):
    return {"SMTP_URL": smtp.url, "REPLY_DOMAIN": REPLY_DOMAIN}


@pytest.fixture
def enqueued(monkeypatch) -> list[tuple]:
    """The replies' tasks the code enqueues (publishing's own deliveries are left out)."""
    calls: list[tuple] = []

    def record(name, *args, **kwargs):
        if name.startswith("replies."):
            calls.append((name, *args))
        return True

    monkeypatch.setattr(queue, "enqueue", record)
    return calls


def comments() -> list[Comment]:
    db.session.expire_all()
    return list(db.session.scalars(select(Comment).order_by(Comment.id)))


def link(message, path: str) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()
    found = re.search(rf"http://margins\.test(/{path}/\S+)", text)
    assert found, text
    return found.group(1)


def test_a_reply_from_a_reader_who_publishes_becomes_a_pending_comment(app, smtp, enqueued):
    issue = make_issue("Café society")
    sub = reader(mode="publish", display_name="Léa F.")

    outcome = receiving.receive(fixture_to("gmail_plain_and_html.eml", issue.id, sub.id))

    assert outcome == Outcome.PUBLISHED
    (comment,) = comments()
    assert comment.status == CommentStatus.PENDING and comment.moderation_due
    assert comment.issue_id == issue.id and comment.author_name == "Léa F."
    assert comment.body_md.startswith("Thank you for this issue — the part about cafés")
    assert "Lisbon" not in comment.body_md and "wrote:" not in comment.body_md
    assert comment.author_email == sub.email  # kept private, like any commenter's address
    (reply,) = replies()
    assert reply.comment_id == comment.id and reply.mail == ReplyMail.RECEIVED
    assert enqueued == [("replies.send_mail", reply.id)]  # after the commit
    assert smtp.sink.messages == []  # nothing is sent inside the transaction


def test_the_pending_comment_goes_through_the_same_moderation_task(app, enqueued):
    issue = make_issue()
    sub = reader(mode="publish")
    receiving.receive(fixture_to("german_reply.eml", issue.id, sub.id))
    (comment,) = comments()

    assert feed.claim() == [comment.id]  # the moderation feed picks it up like any comment
    assert decisions.moderate_comment(comment.id) is not None
    db.session.expire_all()
    assert not db.session.get(Comment, comment.id).moderation_due


def test_banned_emails_and_words_apply_to_replies_through_the_rules(app, enqueued):
    issue = make_issue()
    sub = reader(email="spammer@example.net", mode="publish")
    settings.put("moderation.banned_emails", ["spammer@example.net"])
    receiving.receive(reply_message(issue.id, sub.id, "Buy my notebooks."))
    (comment,) = comments()

    assert decisions.moderate_comment(comment.id) == decisions.Verdict.SPAM
    db.session.expire_all()
    assert "banned email" in db.session.get(Comment, comment.id).decision_reasons


def test_the_reader_gets_one_email_with_a_link_to_withdraw(app, client, smtp, enqueued):
    issue = make_issue("Café society")
    sub = reader(mode="publish")
    receiving.receive(fixture_to("french_reply.eml", issue.id, sub.id))
    (reply,) = replies()

    assert mails.send_mail(reply.id) and not mails.send_mail(reply.id)  # once
    (message,) = smtp.sink.messages
    assert message["To"] == sub.email and message["Auto-Submitted"] == "auto-replied"
    assert "will appear" in message["Subject"]
    assert message["In-Reply-To"].strip() == reply.message_key  # it threads under the reply
    withdraw = link(message, "replies/withdraw")
    assert "Withdraw my comment" in client.get(withdraw).get_data(as_text=True)
    assert comments()[0].status == CommentStatus.PENDING  # a GET changes nothing

    client.post(withdraw)

    assert comments()[0].status == CommentStatus.TRASH
    assert replies()[0].status == ReplyStatus.WITHDRAWN


def test_withdrawing_takes_back_an_approved_comment_too(app, client, enqueued):
    issue = make_issue()
    sub = reader(mode="publish")
    receiving.receive(reply_message(issue.id, sub.id, "Lovely issue."))
    comment, reply = comments()[0], replies()[0]
    comment.status = CommentStatus.APPROVED
    db.session.commit()
    assert "Lovely issue." in client.get(f"/issues/{issue.slug}").get_data(as_text=True)

    choices.withdraw(choices.withdraw_link(reply.id).rsplit("/", 1)[1])

    assert "Lovely issue." not in client.get(f"/issues/{issue.slug}").get_data(as_text=True)


def test_the_first_reply_asks_whether_to_publish_and_nothing_is_public_meanwhile(
    app, client, smtp, enqueued
):
    issue = make_issue("Café society")
    sub = reader(mode="ask")

    assert receiving.receive(fixture_to("apple_mail.eml", issue.id, sub.id)) == Outcome.HELD
    assert comments() == []
    (reply,) = replies()
    assert reply.mail == ReplyMail.ASK
    mails.send_mail(reply.id)
    (message,) = smtp.sink.messages
    assert message["To"] == sub.email  # the subscriber's own address, not the reply's From
    choose = link(message, "replies/choose")
    page = client.get(choose).get_data(as_text=True)
    assert "Publish it as a comment" in page and "Keep it private" in page
    assert comments() == []

    client.post(choose, data={"choice": "publish"})

    (comment,) = comments()
    assert comment.status == CommentStatus.PENDING and comment.author_name == "Léa Fontaine"
    reply = replies()[0]
    assert reply.status == ReplyStatus.PUBLISHED and reply.mail_due
    assert ("replies.send_mail", reply.id) in enqueued


def test_only_the_first_reply_asks(app, enqueued):
    issue = make_issue()
    sub = reader(mode="ask")
    receiving.receive(reply_message(issue.id, sub.id, "One."))
    receiving.receive(reply_message(issue.id, sub.id, "Two, a minute later."))

    first, second = replies()
    assert first.mail == ReplyMail.ASK and second.mail is None
    assert [name for name, *_ in enqueued] == ["replies.send_mail"]


def test_choosing_private_keeps_every_held_reply_for_the_writer(app, client, admin_client):
    issue = make_issue()
    sub = reader(mode="ask")
    receiving.receive(reply_message(issue.id, sub.id, "A letter for you."))
    (reply,) = replies()

    choices.choose(choices.choice_link(reply.id).rsplit("/", 1)[1], "private")

    assert replies()[0].status == ReplyStatus.PRIVATE and comments() == []
    db.session.expire_all()
    assert db.session.get(type(sub), sub.id).reply_mode == "private"
    inbox = admin_client.get("/admin/letters?tab=private").get_data(as_text=True)
    assert "A letter for you." in inbox


def test_a_reply_that_asks_not_to_be_published_stays_private(app, admin_client, enqueued):
    issue = make_issue()
    sub = reader(mode="publish")  # even from a reader who publishes their replies

    outcome = receiving.receive(fixture_to("private_to_writer.eml", issue.id, sub.id))

    assert outcome == Outcome.PRIVATE and comments() == []
    assert replies()[0].reason == receiving.ASKS_PRIVATE
    assert enqueued == []
    inbox = admin_client.get("/admin/letters").get_data(as_text=True)
    assert "left the anonymous note" in inbox
    page = admin_client.get(f"/issues/{issue.slug}").get_data(as_text=True)
    assert "anonymous note" not in page


def test_letters_are_for_admins_only(app, client, moderator):
    from tests.conftest import login

    login(client, "bob@example.com", "bob-password-12")
    assert client.get("/admin/letters").status_code == 403


@pytest.mark.parametrize(
    "name, outcome",
    [
        ("auto_reply_ooo.eml", Outcome.AUTO),
        ("precedence_bulk.eml", Outcome.AUTO),
        ("dsn_bounce.eml", Outcome.BOUNCE),
        ("vacation_no_headers.eml", Outcome.AUTO),
        ("vacation_abwesenheitsnotiz.eml", Outcome.AUTO),
    ],
)
def test_automatic_mail_never_becomes_a_comment(app, enqueued, name, outcome):
    issue = make_issue()
    sub = reader(mode="publish")
    assert receiving.receive(fixture_to(name, issue.id, sub.id)) == outcome
    assert comments() == [] and replies() == [] and enqueued == []


def test_a_forged_reply_address_is_refused_and_nothing_is_stored_or_sent(app, enqueued):
    issue = make_issue()
    victim, mallory = reader(mode="publish"), reader(email="m@example.net", mode="publish")
    forged = fixture_to("forged_token.eml", issue.id, mallory.id).replace(
        f"+{issue.id}-{mallory.id}-".encode(), f"+{issue.id}-{victim.id}-".encode()
    )

    assert receiving.receive(forged) == Outcome.FORGED
    assert comments() == [] and replies() == [] and enqueued == []


def test_the_from_header_is_never_trusted(app, enqueued):
    issue = make_issue()
    sub = reader(mode="publish")
    receiving.receive(
        reply_message(issue.id, sub.id, "Hello.", From="The Editor <editor@margins.test>")
    )
    assert comments()[0].author_email == sub.email and comments()[0].author_name != "The Editor"


def test_an_expired_reply_address_is_refused_without_a_comment(app, enqueued):
    old = make_issue(days_ago=61)  # past comments.email_reply_days (60)
    sub = reader(mode="publish")

    assert receiving.receive(reply_message(old.id, sub.id, "Late!")) == Outcome.REFUSED
    assert comments() == []
    assert (
        replies()[0].reason
        == "Comments on this issue are closed, so replies to its email are no longer published."
    )


def test_replies_to_an_issue_with_closed_comments_are_refused(app, enqueued):
    closed = make_issue(comments_open=False)
    sub = reader(mode="publish")
    assert receiving.receive(reply_message(closed.id, sub.id, "Hi")) == Outcome.REFUSED
    assert comments() == []


def test_the_link_limit_applies_and_the_reader_is_told_why(app, smtp, enqueued):
    issue = make_issue()
    sub = reader(mode="publish")
    settings.put("comments.max_links", 1)
    body = "See http://a.example and http://b.example and http://c.example"

    assert receiving.receive(reply_message(issue.id, sub.id, body)) == Outcome.REFUSED
    assert comments() == []
    (reply,) = replies()
    assert reply.reason == "Your comment contains 3 links; at most 1 are allowed."
    mails.send_mail(reply.id)
    (message,) = smtp.sink.messages
    assert "could not be published" in message["Subject"]
    assert "3 links" in message.get_body(preferencelist=("plain",)).get_content()


def test_the_flood_and_duplicate_checks_apply(app, enqueued):
    issue = make_issue()
    sub = reader(mode="publish")
    receiving.receive(reply_message(issue.id, sub.id, "Same words."))
    assert receiving.receive(reply_message(issue.id, sub.id, "Other words.")) == Outcome.REFUSED
    assert "too quickly" in replies()[1].reason
    assert len(comments()) == 1


def test_a_message_delivered_twice_is_stored_once(app, enqueued):
    issue = make_issue()
    sub = reader(mode="publish")
    message = fixture_to("outlook.eml", issue.id, sub.id)
    assert receiving.receive(message) == Outcome.PUBLISHED
    assert receiving.receive(message) == Outcome.DUPLICATE
    assert len(replies()) == 1 and len(comments()) == 1


def test_replies_per_hour_are_limited(app, enqueued):
    issue = make_issue()
    sub = reader(mode="private")
    settings.put("comments.email_replies_per_hour", 2)
    outcomes = [receiving.receive(reply_message(issue.id, sub.id, f"Note {n}.")) for n in range(3)]
    assert outcomes == [Outcome.PRIVATE, Outcome.PRIVATE, Outcome.RATE_LIMITED]


def test_an_unsubscribed_reader_cannot_comment_by_email(app, enqueued):
    issue = make_issue()
    sub = reader(mode="publish")
    sub.status = "unsubscribed"
    db.session.commit()
    assert receiving.receive(reply_message(issue.id, sub.id, "Hi")) == Outcome.UNKNOWN
    assert replies() == []


def test_the_public_name_is_never_an_email_address(app, client, enqueued):
    issue = make_issue()
    sub = reader(email="lea@example.com", name="lea@example.com", mode="publish")
    receiving.receive(reply_message(issue.id, sub.id, "Hello there."))
    (comment,) = comments()
    assert comment.author_name == "A reader"
    comment.status = CommentStatus.APPROVED
    db.session.commit()
    page = client.get(f"/issues/{issue.slug}").get_data(as_text=True)
    assert "Hello there." in page and "lea@example.com" not in page


def test_attachments_are_dropped_and_the_reader_is_told(app, smtp, enqueued):
    issue = make_issue()
    sub = reader(mode="publish")
    receiving.receive(fixture_to("with_attachment.eml", issue.id, sub.id))
    (reply,) = replies()
    assert reply.attachments_dropped == 2
    mails.send_mail(reply.id)
    text = smtp.sink.messages[0].get_body(preferencelist=("plain",)).get_content()
    assert "Your reply had 2 attached files. Attachments are not kept" in text


def test_an_email_the_server_refused_is_sent_by_the_sweep(app, smtp, enqueued):
    issue = make_issue()
    sub = reader(mode="publish")
    receiving.receive(reply_message(issue.id, sub.id, "Hello."))
    (reply,) = replies()
    app.config["SMTP_URL"] = "smtp://127.0.0.1:1"  # the mail server is down
    assert not mails.send_mail(reply.id)
    assert replies()[0].mail_due
    app.config["SMTP_URL"] = smtp.url
    reply = replies()[0]
    assert mails.sweep() == 0  # not yet: its own task may still be on the way
    reply.received_at -= timedelta(minutes=5)
    reply.decided_at -= timedelta(minutes=5)
    db.session.commit()

    assert mails.sweep() == 1 and len(smtp.sink.messages) == 1
    assert not replies()[0].mail_due


def test_an_ask_already_answered_through_another_reply_is_not_sent(app, smtp, enqueued):
    issue = make_issue()
    sub = reader(mode="ask")
    receiving.receive(reply_message(issue.id, sub.id, "First."))
    (reply,) = replies()
    choices.choose(choices.choice_link(reply.id).rsplit("/", 1)[1], "private")

    assert not mails.send_mail(reply.id) and smtp.sink.messages == []
    assert not replies()[0].mail_due
