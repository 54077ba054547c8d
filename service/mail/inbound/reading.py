"""Reading one incoming message: who it is for, whether a person wrote it, and what they wrote.

Automatic messages are sorted out from their headers before any text is looked at. For a
person's message the HTML reading comes first (it keeps **bold**, *italics*, links and lists),
converted to the comments' Markdown subset; the plain-text reading is the fallback.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses

from service.mail.inbound import html_reply, parts, plain_text, sorting

#: Headers a receiving server writes with the envelope recipient, most trustworthy first.
RECIPIENT_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "To", "Cc")


@dataclass(frozen=True)
class Incoming:
    """One message as Margins sees it."""

    message: EmailMessage
    kind: str  # "reply" (a person wrote it), "auto" or "bounce"
    why: str  # what gave an automatic message away ('' for a reply)
    text: str  # the person's own words, Markdown ('' unless kind is "reply")
    attachments_dropped: int
    message_key: str  # Message-ID, or a digest of the bytes when it has none
    subject: str

    @property
    def is_reply(self) -> bool:
        return self.kind == "reply"


def parse(raw: bytes) -> EmailMessage:
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)  # policy.default parses into EmailMessage
    return msg


def recipients(msg: EmailMessage, envelope: list[str] | None = None) -> list[str]:
    """The addresses a message was delivered to: the envelope's first, then the headers'."""
    values = [str(v) for name in RECIPIENT_HEADERS for v in msg.get_all(name, [])]
    found = list(envelope or []) + [address for _, address in getaddresses(values)]
    return [address for address in found if address]


def message_key(msg: EmailMessage, raw: bytes) -> str:
    """What makes a delivery of this message recognisable when it comes again."""
    message_id = " ".join(str(msg.get("Message-ID", "") or "").split())
    if message_id:
        return message_id[:255]
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def reader_text(msg: EmailMessage) -> str:
    """The person's own words: from the HTML parts when there are any, else plain text."""
    html = parts.reading(msg, "html")
    if html.of("html"):
        markup = "".join(
            body if kind == "html" else html_reply.plain_to_html(body) for kind, body in html.parts
        )
        text = html_reply.reply_markdown(markup)
        if text:
            return text
    plain = parts.reading(msg, "plain").of("plain")
    return plain_text.reply_markdown("\n".join(plain)) if plain else ""


def read(raw: bytes) -> Incoming:
    """Read one raw message (bytes as received)."""
    msg = parse(raw)
    automatic = sorting.automatic(msg)
    kind, why = automatic if automatic else ("reply", "")
    return Incoming(
        message=msg,
        kind=kind,
        why=why,
        text=reader_text(msg) if automatic is None else "",
        attachments_dropped=parts.count_attachments(msg),
        message_key=message_key(msg, raw),
        subject=" ".join(str(msg.get("Subject", "") or "").split())[:255],
    )
