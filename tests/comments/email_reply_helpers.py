"""Helpers for the replies-by-email tests: readers, issues, and messages to their addresses."""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from sqlalchemy import select

from service.extensions import db
from service.mail import reply_address
from service.models import EmailReply, Subscriber
from service.models.base import utcnow

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "inbound"
REPLY_DOMAIN = "replies.example.org"
#: The fixtures' own reply addresses (issue 12, subscribers 4820-4835).
FIXTURE_ADDRESS = re.compile(rb"reply\+12-48\d\d-[0-9a-f]{12}@replies\.example\.org")


def reader(email="lea@example.com", name="Léa Fontaine", mode="ask", **fields) -> Subscriber:
    sub = Subscriber(
        email=email,
        name=name,
        status="active",
        reply_mode=mode,
        confirmed_at=utcnow(),
        **fields,
    )
    db.session.add(sub)
    db.session.commit()
    return sub


def fixture_to(name: str, issue_id: int, subscriber_id: int, message_id: str | None = None):
    """A fixture's bytes, re-addressed to this test's issue and reader (its token re-signed)."""
    data = (FIXTURES / name).read_bytes()
    address = reply_address.reply_address(issue_id, subscriber_id)
    data = FIXTURE_ADDRESS.sub(address.encode(), data)
    if message_id:
        head, sep, body = data.partition(b"\r\n\r\n")
        lines = [
            f"Message-ID: {message_id}".encode()
            if line.lower().startswith(b"message-id:")
            else line
            for line in head.split(b"\r\n")
        ]
        data = b"\r\n".join(lines) + sep + body
    return data


def reply_message(issue_id: int, subscriber_id: int, text: str, **headers: str) -> bytes:
    """A plain reply to one reader's reply address (From is whatever the sender writes)."""
    msg = EmailMessage()
    msg["From"] = headers.pop("From", "Someone <someone@example.net>")
    msg["To"] = headers.pop("To", reply_address.reply_address(issue_id, subscriber_id))
    msg["Subject"] = headers.pop("Subject", "Re: an issue")
    msg["Message-ID"] = headers.pop("Message_ID", make_msgid(domain="example.net"))
    for key, value in headers.items():
        msg[key.replace("_", "-")] = value
    msg.set_content(f"{text}\n\nOn Tue, 1 Dec 2026 at 09:14, Margins wrote:\n> The issue.\n")
    return msg.as_bytes()


def replies() -> list[EmailReply]:
    db.session.expire_all()
    return list(db.session.scalars(select(EmailReply).order_by(EmailReply.id)))
