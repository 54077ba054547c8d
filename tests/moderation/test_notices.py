"""Moderators hear about held comments: batched emails with signed one-click links."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from service.models.base import utcnow
from service.moderation import decisions, notices
from service.staff import team
from tests.factories import make_comment, make_issue
from tests.support.servers import free_port


@pytest.fixture
def issue(app, smtp, admin, moderator):
    app.config["SMTP_URL"] = smtp.url
    return make_issue("Held things")


def _held(issue, body: str, **fields):
    comment = make_comment(issue, status="pending", moderation_due=True, body=body, **fields)
    assert decisions.moderate_comment(comment.id) == "held"
    return comment


def test_each_moderator_gets_one_email_listing_the_held_comments(issue, smtp):
    _held(issue, "First held words", email="first@example.net", author_ip="192.0.2.7")
    _held(issue, "Second held words")
    assert notices.notify_moderators() == 2
    bob = smtp.sink.to("bob@example.com")
    assert len(bob) == 1 and len(smtp.sink.to("alice@example.com")) == 1
    text = bob[0].get_body(preferencelist=("plain",)).get_content()
    assert "2 comments awaiting moderation" in bob[0]["Subject"]
    assert "First held words" in text and "first@example.net" in text and "192.0.2.7" in text
    assert len(re.findall(r"/moderate/link/approve/", text)) == 2
    assert len(re.findall(r"/moderate/link/spam/", text)) == 2


def test_emails_are_batched_per_interval_and_never_repeat_a_comment(issue, smtp):
    _held(issue, "Early comment")
    assert notices.notify_moderators() == 2
    _held(issue, "Later comment")
    assert notices.notify_moderators() == 0  # within the interval: wait
    assert notices.notify_moderators(now=utcnow() + timedelta(minutes=6)) == 2
    later = smtp.sink.to("bob@example.com")[-1].get_body(preferencelist=("plain",)).get_content()
    assert "Later comment" in later and "Early comment" not in later
    assert notices.notify_moderators(now=utcnow() + timedelta(minutes=20)) == 0


def test_deactivated_staff_get_no_email(issue, smtp, admin, moderator):
    team.set_active(moderator.id, False, admin)
    _held(issue, "Only for active staff")
    assert notices.notify_moderators() == 1
    assert smtp.sink.to("bob@example.com") == []


def test_the_links_are_bound_to_action_and_moderator(issue, moderator):
    token = notices.link_token("approve", 42, moderator.id)
    assert notices.read_link("approve", token) == (42, moderator.id)
    from service.core.tokens import TokenError

    with pytest.raises(TokenError):
        notices.read_link("spam", token)


def test_a_failed_email_is_sent_again_on_the_next_run(app, issue, smtp):
    _held(issue, "Held while the mail server was down")
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"  # nothing listens there
    assert notices.notify_moderators() == 0
    app.config["SMTP_URL"] = smtp.url
    assert smtp.sink.messages == []
    assert notices.notify_moderators() == 2  # the next beat run: nothing was lost
    text = smtp.sink.to("bob@example.com")[0].get_body(preferencelist=("plain",)).get_content()
    assert "Held while the mail server was down" in text
    assert notices.notify_moderators(now=utcnow() + timedelta(minutes=6)) == 0
