"""Bounces and complaints through VERP addresses, a Maildir and the webhook."""

from __future__ import annotations

import mailbox
from email.message import EmailMessage

import pytest

from service.extensions import db
from service.mail import headers
from service.models import Subscriber
from service.newsletter import bounces


def member(email: str = "ann@example.com") -> Subscriber:
    sub = Subscriber(email=email, status="active")
    db.session.add(sub)
    db.session.commit()
    return sub


def status(sub: Subscriber) -> str:
    return db.session.get(Subscriber, sub.id, populate_existing=True).status


DSN = """From: MAILER-DAEMON@mx.example.org
To: {to}
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type={report}; boundary="XYZ"

--XYZ
Content-Type: text/plain

This is the mail system at host mx.example.org. I'm sorry to have to inform you...

--XYZ
Content-Type: {part}

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; ann@example.com
Action: failed
Status: {code}

--XYZ--
"""


def dsn(to: str, code: str = "5.1.1") -> bytes:
    return DSN.format(
        to=to, code=code, report="delivery-status", part="message/delivery-status"
    ).encode()


def arf(to: str) -> bytes:
    return DSN.format(
        to=to, code="", report="feedback-report", part="message/feedback-report"
    ).encode()


def test_verp_address_names_its_subscriber_and_cannot_be_forged(app):
    address = headers.verp_address(42)
    assert address.startswith("bounces+42-") and address.endswith("@margins.test")
    assert headers.parse_verp(address) == ("bounces", 42)
    assert headers.parse_verp(address.upper()) == ("bounces", 42)  # MTAs may fold case
    assert headers.parse_verp(address.replace("+42-", "+43-")) is None


def test_hard_bounce_marks_bounced_and_soft_bounce_does_not(app):
    hard, soft = member("hard@example.com"), member("soft@example.com")
    assert bounces.process_message(dsn(headers.verp_address(soft.id), "4.2.2")) == "ignored"
    assert bounces.process_message(dsn(headers.verp_address(hard.id))) == "bounced"
    assert (status(hard), status(soft)) == ("bounced", "active")


def test_feedback_report_marks_complained(app):
    sub = member()
    assert bounces.process_message(arf(headers.verp_address(sub.id))) == "complained"
    assert status(sub) == "complained"


def test_mail_to_the_list_unsubscribe_address_unsubscribes(app):
    sub = member()
    msg = EmailMessage()
    msg["To"] = headers.unsubscribe_address(sub.id)
    msg["Subject"] = "unsubscribe"
    msg.set_content("")
    assert bounces.process_message(msg.as_bytes()) == "unsubscribed"
    assert status(sub) == "unsubscribed"


def test_maildir_of_bounces_is_processed_and_emptied(app, tmp_path, runner):
    sub, other = member(), member("b@example.com")
    box = mailbox.Maildir(tmp_path / "bounces", create=True)
    box.add(dsn(headers.verp_address(sub.id)))
    box.add(dsn("someone-else@example.org"))
    result = runner.invoke(["process-bounces", str(tmp_path / "bounces")])
    assert result.exit_code == 0 and "bounced: 1" in result.output
    assert (status(sub), status(other)) == ("bounced", "active")
    assert len(box) == 0


@pytest.fixture
def app_config():
    return {"BOUNCE_WEBHOOK_SECRET": "hook-secret-0123456789"}


def test_webhook_needs_the_secret_and_accepts_dsn_or_json(client, app):
    sub, other = member(), member("c@example.com")
    raw = dsn(headers.verp_address(sub.id))
    assert client.post("/webhooks/bounces", data=raw).status_code == 403
    assert client.post("/webhooks/bounces?token=wrong", data=raw).status_code == 403
    assert status(sub) == "active"
    ok = client.post(
        "/webhooks/bounces",
        data=raw,
        headers={"X-Margins-Token": "hook-secret-0123456789", "Content-Type": "message/rfc822"},
    )
    assert ok.json == {"outcome": "bounced"} and status(sub) == "bounced"
    event = client.post(
        "/webhooks/bounces?token=hook-secret-0123456789",
        json={"type": "complaint", "recipient": "c@example.com"},
    )
    assert event.json == {"outcome": "complained"} and status(other) == "complained"
