"""Replies by email on the web: the providers' webhook, the preferences that decide what a
reply becomes, and the Letters inbox."""

from __future__ import annotations

import json

import pytest

from service.core import tokens
from service.extensions import db
from service.models import EmailReply, ReplyStatus, Subscriber
from tests.comments.email_reply_helpers import REPLY_DOMAIN, fixture_to, reader, replies
from tests.factories import make_issue

SECRET = "inbound-webhook-secret"


@pytest.fixture
def app_config():
    return {"REPLY_DOMAIN": REPLY_DOMAIN, "REPLY_WEBHOOK_SECRET": SECRET}


def test_the_webhook_takes_a_raw_message_with_the_shared_secret(app, client):
    issue, sub = make_issue(), reader(mode="private")
    raw = fixture_to("thunderbird.eml", issue.id, sub.id)

    answer = client.post(
        "/webhooks/replies",
        data=raw,
        headers={"X-Margins-Token": SECRET, "Content-Type": "message/rfc822"},
    )

    assert answer.status_code == 200 and answer.json == {"outcome": "private"}
    assert [r.status for r in replies()] == [ReplyStatus.PRIVATE]


def test_the_webhook_refuses_a_wrong_secret_and_is_off_without_one(app, client):
    issue, sub = make_issue(), reader(mode="private")
    raw = fixture_to("thunderbird.eml", issue.id, sub.id)
    assert (
        client.post("/webhooks/replies", data=raw, headers={"X-Margins-Token": "nope"}).status_code
        == 403
    )
    app.config["REPLY_WEBHOOK_SECRET"] = ""
    assert (
        client.post("/webhooks/replies", data=raw, headers={"X-Margins-Token": ""}).status_code
        == 404
    )
    assert replies() == []


def test_the_webhook_reads_mailgun_and_sendgrid_forms_and_postmark_json(app, client):
    issue = make_issue()
    subs = [reader(email=f"r{n}@example.com", mode="private") for n in range(3)]
    mailgun = fixture_to("german_reply.eml", issue.id, subs[0].id).decode()
    sendgrid = fixture_to("french_reply.eml", issue.id, subs[1].id).decode()
    postmark = fixture_to("outlook.eml", issue.id, subs[2].id).decode()

    answers = [
        client.post(
            f"/webhooks/replies/mime?token={SECRET}",
            data={"body-mime": mailgun, "recipient": "ignored@example.org"},
        ),
        client.post(
            f"/webhooks/replies?token={SECRET}",
            data={"email": sendgrid, "envelope": json.dumps({"to": [], "from": "x@example.org"})},
        ),
        client.post(f"/webhooks/replies?token={SECRET}", json={"RawEmail": postmark}),
    ]

    assert [a.json for a in answers] == [{"outcome": "private"}] * 3
    assert sorted(r.subscriber_id for r in replies()) == sorted(s.id for s in subs)


def test_a_forged_message_through_the_webhook_is_answered_200_and_stores_nothing(app, client):
    issue, sub = make_issue(), reader(mode="publish")
    forged = fixture_to("thunderbird.eml", issue.id, sub.id).replace(
        f"+{issue.id}-{sub.id}-".encode(), f"+{issue.id}-{sub.id + 1}-".encode()
    )
    answer = client.post(f"/webhooks/replies?token={SECRET}", data=forged)
    assert answer.status_code == 200 and answer.json == {"outcome": "forged"}
    assert replies() == []


def preferences_url(sub: Subscriber) -> str:
    return f"/subscribe/preferences/{tokens.make('preferences', sub.id)}"


def test_preferences_set_the_public_name_and_what_replies_become(app, client):
    sub = reader(mode="ask")
    page = client.get(preferences_url(sub)).get_data(as_text=True)
    assert "When I reply to an issue email" in page and "Public name" in page

    client.post(
        preferences_url(sub),
        data={
            "delivery": "issue",
            "name": "Léa",
            "display_name": "Léa F.",
            "reply_mode": "publish",
        },
    )

    db.session.expire_all()
    row = db.session.get(Subscriber, sub.id)
    assert (row.display_name, row.reply_mode) == ("Léa F.", "publish")


def test_a_public_name_that_is_an_email_address_is_refused_and_the_form_kept(app, client):
    sub = reader(mode="ask")
    answer = client.post(
        preferences_url(sub),
        data={
            "delivery": "weekly",
            "name": "Léa",
            "display_name": "lea@example.com",
            "reply_mode": "publish",
        },
    )
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400 and "cannot contain an email address" in page
    assert 'value="lea@example.com"' in page and 'value="weekly" checked' in page
    db.session.expire_all()
    assert db.session.get(Subscriber, sub.id).display_name == ""


def test_the_letters_inbox_marks_a_letter_read(app, admin_client):
    issue, sub = make_issue(), reader(mode="private")
    db.session.add(
        EmailReply(
            issue_id=issue.id,
            subscriber_id=sub.id,
            message_key="<one@example.com>",
            body_md="Just between us: **thank you**.",
            status=ReplyStatus.PRIVATE,
        )
    )
    db.session.commit()
    page = admin_client.get("/admin/letters").get_data(as_text=True)
    assert "<strong>thank you</strong>" in page and "Mark as read" in page
    (reply,) = replies()

    admin_client.post(f"/admin/letters/{reply.id}/read", data={"tab": "private"})

    assert replies()[0].read_at is not None
    assert "Mark as read" not in admin_client.get("/admin/letters").get_data(as_text=True)


def test_the_readers_reply_pages_and_the_letters_inbox_are_valid_html(app, admin_client):
    from service.comments.email_replies import choices, receiving
    from tests.support.nu import nu_errors_many

    issue = make_issue("Café society")
    asker, publisher = reader(mode="ask"), reader(email="p@example.com", mode="publish")
    receiving.receive(fixture_to("html_only.eml", issue.id, asker.id))
    receiving.receive(fixture_to("apple_mail.eml", issue.id, publisher.id))
    held, published = replies()
    pages = [
        admin_client.get(choices.choice_link(held.id).replace("http://margins.test", "")),
        admin_client.get(choices.withdraw_link(published.id).replace("http://margins.test", "")),
        admin_client.get("/admin/letters?tab=held"),
        admin_client.get(preferences_url(asker)),
    ]
    assert [p.status_code for p in pages] == [200] * 4
    assert nu_errors_many([p.get_data(as_text=True) for p in pages]) == [[]] * 4
