"""Bulk mail: a message rendered once, then encoded for each recipient without the email package.

The email package spends milliseconds parsing and folding headers per message; a bulk send only
changes a few links per recipient, so this writes the MIME structure directly (quoted-printable
bodies by binascii, RFC 2047 for non-ASCII headers).
"""

from __future__ import annotations

import binascii
import secrets
from dataclasses import dataclass
from email.header import Header
from email.utils import formataddr, formatdate, make_msgid

from service.mail.headers import safe_header, sender, site_domain


@dataclass
class RawMessage:
    """One recipient's encoded message (bytes with CRLF line ends), ready for SMTP."""

    data: bytes
    recipient: str
    message_id: str

    def __getitem__(self, name: str) -> str | None:
        return self.message_id if name.lower() == "message-id" else None


class Prototype:
    """A multipart text + HTML message rendered once, then encoded for each recipient."""

    def __init__(self, subject: str, text: str, html: str | None, from_: str | None = None):
        self.subject = _encoded_header(safe_header(" ".join(subject.split())))
        self.from_ = safe_header(from_ or sender())
        self.text, self.html, self.domain = text, html, site_domain()

    def message(
        self, name: str, address: str, headers: dict[str, str], text: str, html: str | None
    ) -> RawMessage:
        """Encode one copy; `text`/`html` are this recipient's personalised bodies."""
        message_id = make_msgid(domain=self.domain)
        lines = [
            f"Subject: {self.subject}",
            f"From: {self.from_}",
            f"To: {_encoded_address(safe_header(name), safe_header(address))}",
            f"Date: {formatdate(localtime=False)}",
            f"Message-ID: {message_id}",
            "MIME-Version: 1.0",
        ]
        lines += [f"{name}: {safe_header(value)}" for name, value in headers.items()]
        parts = [("plain", text)] + ([("html", html)] if html is not None else [])
        boundary = f"=_margins_{secrets.token_hex(12)}"
        lines.append(f'Content-Type: multipart/alternative; boundary="{boundary}"')
        out = ["\r\n".join(lines).encode(), b"\r\n\r\n"]
        for subtype, body in parts:
            encoded = binascii.b2a_qp(body.replace("\r\n", "\n").encode(), istext=True)
            out += [
                f'--{boundary}\r\nContent-Type: text/{subtype}; charset="utf-8"\r\n'
                "Content-Transfer-Encoding: quoted-printable\r\n\r\n".encode(),
                encoded.replace(b"\n", b"\r\n"),
                b"\r\n",
            ]
        out.append(f"--{boundary}--\r\n".encode())
        return RawMessage(b"".join(out), address, message_id)


def _encoded_header(value: str) -> str:
    return value if value.isascii() else Header(value, "utf-8").encode()


def _encoded_address(name: str, address: str) -> str:
    return formataddr((name, address), charset="utf-8") if name else address
