"""Issue and digest emails carry each reader's own signed Reply-To, and invite replies."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.mail import reply_address
from service.models.base import utcnow
from service.newsletter import digests, sending
from tests.comments.email_reply_helpers import REPLY_DOMAIN, reader
from tests.factories import make_issue
from tests.newsletter.test_delivery import the_send


@pytest.fixture
def app_config(smtp):
    return {"SMTP_URL": smtp.url, "REPLY_DOMAIN": REPLY_DOMAIN}


def test_each_issue_email_has_its_readers_own_reply_address(app, smtp):
    ann = reader(email="ann@example.com", name="Ann", delivery="issue")
    bob = reader(email="bob@example.com", name="Bob", delivery="issue")
    issue = make_issue("Café society")

    sending.drain(the_send(issue).id)

    by_reader = {m["To"].addresses[0].addr_spec: m for m in smtp.sink.messages}
    for sub in (ann, bob):
        message = by_reader[sub.email]
        target = reply_address.parse(message["Reply-To"])
        assert (target.issue_id, target.subscriber_id) == (issue.id, sub.id)
        text = message.get_body(preferencelist=("plain",)).get_content()
        html = message.get_body(preferencelist=("html",)).get_content()
        assert (
            "Reply to this email to comment." in text and "Reply to this email to comment." in html
        )


def test_without_a_reply_domain_there_is_no_reply_to_and_no_invitation(app, smtp):
    app.config["REPLY_DOMAIN"] = ""
    reader(delivery="issue")
    sending.drain(the_send(make_issue()).id)
    (message,) = smtp.sink.messages
    assert message["Reply-To"] is None
    assert "Reply to this email" not in message.get_body(preferencelist=("plain",)).get_content()


def test_a_digest_reply_comments_on_the_newest_issue_it_lists(app, smtp):
    sub = reader(delivery="daily")
    sub.confirmed_at = utcnow() - timedelta(days=3)
    older, newest = make_issue("Older", days_ago=2), make_issue("Newest", days_ago=1)
    composer = digests.DigestComposer(
        type("Send", (), {"id": 0, "key": "2099-01-01", "created_at": utcnow()})()
    )

    message, _ = composer(
        type("Row", (), {"subscriber_id": sub.id, "name": "", "email": sub.email})()
    )

    target = reply_address.parse(message["Reply-To"])
    assert (target.issue_id, target.subscriber_id) == (newest.id, sub.id) != (older.id, sub.id)
    assert (
        "Reply to this email to comment on “Newest”"
        in message.get_body(preferencelist=("plain",)).get_content()
    )
