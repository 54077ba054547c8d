"""Subscribing with double opt-in, reminders, preferences, unsubscribing and coming back."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from service.core import settings, tokens
from service.extensions import db
from service.models import Subscriber
from service.models.base import utcnow
from service.newsletter import confirmations, subscriptions


@pytest.fixture
def mail_to(app, smtp):
    """Send mail to the real SMTP sink; no minimum form-filling time."""
    app.config["SMTP_URL"] = smtp.url
    settings.put("newsletter.min_form_seconds", 0)
    db.session.commit()
    return smtp


def subscribe_form(client, email: str, name: str = "", **extra):
    data = {"email": email, "name": name, "stamp": subscriptions.form_stamp(), **extra}
    return client.post("/subscribe", data=data)


def subscriber(email: str) -> Subscriber | None:
    return db.session.scalar(
        select(Subscriber)
        .where(Subscriber.email == email)
        .execution_options(populate_existing=True)
    )


def link(message, pattern: str) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(rf"http://margins\.test(/{pattern}/\S+)", text).group(1)


def main(html: bytes) -> str:
    """The page's <main>, without per-request tokens."""
    page = html.decode()
    page = page[page.index("<main>") : page.index("</main>")]
    return re.sub(r'value="[^"]*"', "", page)


def test_confirmation_link_opens_a_page_and_only_the_post_confirms(client, mail_to):
    response = subscribe_form(client, "Ann@Example.com", "Ann")
    assert b"Check your inbox" in response.data
    assert confirmations.sweep() == 1
    [message] = mail_to.sink.messages
    assert message["To"] == "ann@example.com"  # no display name until confirmed
    confirm = link(message, "subscribe/confirm")
    page = client.get(confirm)
    assert b"Confirm my subscription" in page.data
    assert subscriber("ann@example.com").status == "pending"  # a scanner's GET does nothing
    done = client.post(confirm)
    assert b"You are subscribed" in done.data
    assert subscriber("ann@example.com").status == "active"


def test_the_answer_is_the_same_for_new_pending_and_active_addresses(client, mail_to):
    db.session.add(Subscriber(email="old@example.com", status="active"))
    db.session.commit()
    new = subscribe_form(client, "new@example.com")
    again = subscribe_form(client, "new@example.com")
    active = subscribe_form(client, "old@example.com")
    assert new.status_code == again.status_code == active.status_code == 200
    assert main(new.data) == main(again.data) == main(active.data)
    confirmations.sweep()
    assert [m["To"] for m in mail_to.sink.messages] == ["new@example.com"]


def test_at_most_one_confirmation_per_address_per_hour(app, mail_to):
    start = utcnow()
    for minutes in (0, 10, 59):
        subscriptions.subscribe("bomb@example.com", now=start + timedelta(minutes=minutes))
        confirmations.sweep(now=start + timedelta(minutes=minutes))
    assert len(mail_to.sink.messages) == 1
    subscriptions.subscribe("bomb@example.com", now=start + timedelta(minutes=61))
    confirmations.sweep(now=start + timedelta(minutes=61))
    assert len(mail_to.sink.messages) == 2


def test_one_reminder_after_24_hours_if_the_link_was_not_used(app, mail_to):
    start = utcnow()
    subscriptions.subscribe("slow@example.com", now=start)
    confirmations.sweep(now=start)
    confirmations.sweep(now=start + timedelta(hours=23))
    assert len(mail_to.sink.messages) == 1
    confirmations.sweep(now=start + timedelta(hours=25))
    confirmations.sweep(now=start + timedelta(hours=30))
    subjects = [m["Subject"] for m in mail_to.sink.messages]
    assert subjects == [
        "Confirm your subscription to Margins Test",
        "Reminder: confirm your subscription to Margins Test",
    ]
    confirm = link(mail_to.sink.messages[1], "subscribe/confirm")
    app.test_client().post(confirm)
    assert subscriber("slow@example.com").status == "active"


def test_no_reminder_once_confirmed(app, mail_to):
    start = utcnow()
    subscriptions.subscribe("quick@example.com", now=start)
    confirmations.sweep(now=start)
    app.test_client().post(link(mail_to.sink.messages[0], "subscribe/confirm"))
    confirmations.sweep(now=start + timedelta(hours=25))
    assert len(mail_to.sink.messages) == 1


@pytest.mark.parametrize(
    "email,name",
    [
        ("eve@example.com\r\nBcc: victim@example.org", ""),
        ("eve@example.com\nBcc: victim@example.org", ""),
        ("eve@example.com", "Eve\r\nBcc: victim@example.org"),
    ],
)
def test_header_injection_in_email_or_name_is_refused(client, mail_to, email, name):
    response = subscribe_form(client, email, name)
    assert response.status_code == 400 and b"line breaks" in response.data
    assert db.session.scalar(select(Subscriber.id)) is None
    confirmations.sweep()
    assert mail_to.sink.messages == []


def test_invalid_address_gets_a_clear_error(client, mail_to):
    response = subscribe_form(client, "not-an-address")
    assert response.status_code == 400 and b"does not look right" in response.data


def test_honeypot_and_time_trap_drop_bots_silently(client, mail_to):
    filled = subscribe_form(client, "bot1@example.com", website="http://spam.example")
    settings.put("newsletter.min_form_seconds", 60)
    db.session.commit()
    fast = subscribe_form(client, "bot2@example.com")
    assert b"Check your inbox" in filled.data and b"Check your inbox" in fast.data
    assert db.session.scalar(select(Subscriber.id)) is None


def test_one_click_post_needs_no_cookie_or_csrf_and_get_changes_nothing(app, mail_to):
    app.config["WTF_CSRF_ENABLED"] = True
    sub = Subscriber(email="leaver@example.com", status="active")
    db.session.add(sub)
    db.session.commit()
    token = tokens.make("unsubscribe", sub.id)
    client = app.test_client()
    assert client.get(f"/unsubscribe/{token}/one-click").status_code == 302
    assert b"Unsubscribe" in client.get(f"/unsubscribe/{token}").data
    assert client.post(f"/unsubscribe/{token}").status_code == 400  # the page's form needs CSRF
    assert subscriber("leaver@example.com").status == "active"
    fresh = app.test_client(use_cookies=False)
    response = fresh.post(f"/unsubscribe/{token}/one-click", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert subscriber("leaver@example.com").status == "unsubscribed"


def test_unsubscribe_page_button_and_resubscribing_needs_confirmation_again(client, mail_to):
    start = utcnow()
    subscriptions.subscribe("back@example.com", now=start - timedelta(hours=3))
    confirmations.sweep(now=start - timedelta(hours=3))
    client.post(link(mail_to.sink.messages[0], "subscribe/confirm"))
    sub = subscriber("back@example.com")
    page = client.post(f"/unsubscribe/{tokens.make('unsubscribe', sub.id)}")
    assert b"You are unsubscribed" in page.data
    assert subscriber("back@example.com").status == "unsubscribed"
    subscribe_form(client, "back@example.com")
    assert subscriber("back@example.com").status == "pending"
    confirmations.sweep()
    assert len(mail_to.sink.messages) == 2
    client.post(link(mail_to.sink.messages[1], "subscribe/confirm"))
    assert subscriber("back@example.com").status == "active"


def test_old_confirmation_link_cannot_revive_an_ended_subscription(client, mail_to):
    subscriptions.subscribe("gone@example.com")
    confirmations.sweep()
    confirm = link(mail_to.sink.messages[0], "subscribe/confirm")
    subscriptions.unsubscribe(subscriber("gone@example.com").id)
    assert client.post(confirm).status_code == 400
    assert subscriber("gone@example.com").status == "unsubscribed"


def test_preferences_change_delivery_and_never_show_the_address(client, app):
    sub = Subscriber(email="pref@example.com", status="active", name="Pat")
    db.session.add(sub)
    db.session.commit()
    url = f"/subscribe/preferences/{tokens.make('preferences', sub.id)}"
    page = client.get(url)
    assert b"Every issue by email" in page.data and b"pref@example.com" not in page.data
    saved = client.post(url, data={"delivery": "weekly", "name": "Pat P."})
    assert b"Your preferences are saved" in saved.data
    row = subscriber("pref@example.com")
    assert (row.delivery, row.reply_notifications, row.name) == ("weekly", False, "Pat P.")


def test_a_token_for_one_purpose_is_refused_for_another(client, app):
    sub = Subscriber(email="mix@example.com", status="active")
    db.session.add(sub)
    db.session.commit()
    wrong = tokens.make("preferences", sub.id)
    assert client.post(f"/unsubscribe/{wrong}/one-click").status_code == 400
    assert client.get(f"/unsubscribe/{wrong}").status_code == 400
    assert subscriber("mix@example.com").status == "active"


def test_every_page_has_the_subscribe_form(client, app):
    home = client.get("/")
    assert b'action="/subscribe"' in home.data and b'name="website"' in home.data
    assert b"Subscribe to Margins Test" in client.get("/subscribe").data


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_subscribing_is_rate_limited_per_ip(db_url, tmp_path):
    from service import create_app
    from tests.conftest import base_config

    app = create_app({**base_config(tmp_path, db_url), "RATELIMIT_ENABLED": True})
    with app.app_context():
        settings.put("newsletter.min_form_seconds", 0)
        db.session.commit()
        client = app.test_client()
        codes = [subscribe_form(client, f"flood{i}@example.com").status_code for i in range(6)]
        assert codes == [200] * 5 + [429]
        assert db.session.query(Subscriber).count() == 5
        db.session.remove()
        db.engine.dispose()


def test_confirmation_and_reminder_never_relay_the_typed_name(client, mail_to):
    spam = "Cheap pills at pills.example"
    start = utcnow()
    subscribe_form(client, "victim@example.org", spam)
    confirmations.sweep(now=start)
    confirmations.sweep(now=start + timedelta(hours=25))  # the reminder
    assert len(mail_to.sink.messages) == 2
    for message in mail_to.sink.messages:
        assert message["To"] == "victim@example.org"
        assert spam not in message.as_string()
    page = client.get(link(mail_to.sink.messages[0], "subscribe/confirm"))
    assert b"Confirm my subscription" in page.data and spam.encode() not in page.data


def test_no_transaction_is_open_while_a_confirmation_is_sent(app, mail_to, transactions_at_send):
    start = utcnow()
    subscriptions.subscribe("tx@example.com", now=start)
    confirmations.sweep(now=start)
    confirmations.sweep(now=start + timedelta(hours=25))
    assert transactions_at_send == [False, False]  # the confirmation, then the reminder
    assert len(mail_to.sink.messages) == 2


@pytest.mark.parametrize("status", ["complained", "bounced"])
def test_an_address_that_complained_or_bounced_is_not_mailed_again(client, mail_to, status):
    db.session.add(Subscriber(email="active@example.com", status="active"))
    db.session.add(Subscriber(email="hurt@example.com", status=status))
    db.session.commit()
    active = subscribe_form(client, "active@example.com")
    again = subscribe_form(client, "hurt@example.com", "Someone Else")
    assert again.status_code == active.status_code == 200
    assert main(again.data) == main(active.data)  # the same answer: no enumeration
    assert subscriber("hurt@example.com").status == status
    assert confirmations.sweep() == 0 and mail_to.sink.messages == []
