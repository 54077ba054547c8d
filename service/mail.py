"""One module owns email: build a message from templates, send it by SMTP or to the mailbox.

Templates: templates/email/<name>.subject.txt, <name>.txt and (optional) <name>.html.
Without SMTP_URL, messages land in a local Maildir (MARGINS_HOME/mailbox) that admins read at
/admin/mailbox.
"""

from __future__ import annotations

import mailbox
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Self
from urllib.parse import unquote, urlsplit

from flask import current_app, render_template
from jinja2 import TemplateNotFound

from . import site


class HeaderInjectionError(ValueError):
    """A header value built from user input contained CR, LF or another control character."""


def safe_header(value: str) -> str:
    """Refuse header values with control characters (CR/LF header injection)."""
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise HeaderInjectionError("header values may not contain control characters")
    return value


def site_domain() -> str:
    return urlsplit(current_app.config["SITE_URL"]).hostname or "localhost"


def sender() -> str:
    configured = current_app.config.get("MAIL_FROM")
    if configured:
        return configured
    return formataddr((site.name(), f"newsletter@{site_domain()}"))


def build(template: str, to: str, context: dict | None = None,
          headers: dict[str, str] | None = None, inline_css: bool = True) -> EmailMessage:
    """Render `template` for one recipient into a multipart text (+ HTML) message."""
    return assemble(*render_parts(template, context, inline_css), to, headers)


@dataclass
class SMTPSettings:
    host: str
    port: int
    username: str | None
    password: str | None
    mode: str  # "plain", "starttls" or "ssl"

    @classmethod
    def from_url(cls, url: str) -> SMTPSettings:
        """smtp://user:pass@host:25, smtp+starttls://…:587 or smtps://…:465."""
        parts = urlsplit(url)
        mode = {"smtp": "plain", "smtp+starttls": "starttls", "smtps": "ssl"}.get(parts.scheme)
        if mode is None:
            raise ValueError(f"SMTP_URL scheme must be smtp, smtp+starttls or smtps: {url!r}")
        default_port = {"plain": 25, "starttls": 587, "ssl": 465}[mode]
        return cls(
            host=parts.hostname or "localhost",
            port=parts.port or default_port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            mode=mode,
        )


class SMTPConnection:
    """One SMTP connection for many messages (use as a context manager)."""

    def __init__(self, settings: SMTPSettings, timeout: float = 30):
        self.settings, self.timeout, self.smtp = settings, timeout, None

    def __enter__(self) -> Self:
        s = self.settings
        if s.mode == "ssl":
            self.smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=self.timeout,
                                         context=ssl.create_default_context())
        else:
            self.smtp = smtplib.SMTP(s.host, s.port, timeout=self.timeout)
            if s.mode == "starttls":
                self.smtp.starttls(context=ssl.create_default_context())
        if s.username:
            self.smtp.login(s.username, s.password or "")
        return self

    def send(self, msg: EmailMessage, envelope_from: str | None = None) -> None:
        self.smtp.send_message(msg, from_addr=envelope_from)

    def send_raw(self, msg: RawMessage, envelope_from: str) -> None:
        """Send an already-encoded message (see Prototype) to its one recipient."""
        self.smtp.sendmail(envelope_from, [msg.recipient], msg.data)

    def __exit__(self, *exc) -> None:
        try:
            self.smtp.quit()
        except (smtplib.SMTPException, OSError):
            self.smtp.close()


def open_mailbox(path: str) -> mailbox.Maildir:
    """Open (creating if needed) the local Maildir, with its tmp/new/cur folders."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    box = mailbox.Maildir(path, factory=None, create=True)
    for sub in ("tmp", "new", "cur"):
        Path(path, sub).mkdir(parents=True, exist_ok=True)
    return box


class MailboxConnection:
    """Deliver into the local Maildir instead of an SMTP server (the embedded default)."""

    def __init__(self, path: str):
        self.path = path

    def __enter__(self) -> Self:
        self.box = open_mailbox(self.path)
        return self

    def send(self, msg: EmailMessage, envelope_from: str | None = None) -> None:
        if envelope_from:
            del msg["Return-Path"]
            msg["Return-Path"] = f"<{envelope_from}>"
        self.box.add(msg)

    def send_raw(self, msg: RawMessage, envelope_from: str) -> None:
        data = msg.data.replace(b"\r\n", b"\n")
        self.box.add(f"Return-Path: <{envelope_from}>\n".encode() + data)

    def __exit__(self, *exc) -> None:
        self.box.close()


def connection():
    """Open the configured transport: SMTP when SMTP_URL is set, else the local mailbox."""
    url = current_app.config.get("SMTP_URL")
    if url:
        return SMTPConnection(SMTPSettings.from_url(url))
    return MailboxConnection(current_app.config["MAILBOX_DIR"])


def send(msg: EmailMessage, envelope_from: str | None = None) -> str:
    """Send one message now on its own connection; return its Message-ID."""
    with connection() as conn:
        conn.send(msg, envelope_from)
    return msg["Message-ID"]


def address_of(header_value: str) -> str:
    return parseaddr(header_value)[1]


def render_parts(template: str, context: dict | None = None,
                 inline_css: bool = True) -> tuple[str, str, str | None]:
    """Render (subject, text, html) once, e.g. with placeholders filled per recipient later."""
    context = dict(context or {})
    context.setdefault("site_name", site.name())
    context.setdefault("site_url", current_app.config["SITE_URL"])
    subject = " ".join(render_template(f"email/{template}.subject.txt", **context).split())
    text = render_template(f"email/{template}.txt", **context)
    try:
        html = render_template(f"email/{template}.html", **context)
    except TemplateNotFound:
        html = None
    if html is not None and inline_css:
        import css_inline

        html = css_inline.inline(html)
    return subject, text, html


def assemble(subject: str, text: str, html: str | None, to: str,
             headers: dict[str, str] | None = None, from_: str | None = None) -> EmailMessage:
    """Assemble one multipart message from rendered parts (the same headers as build())."""
    msg = EmailMessage()
    msg["Subject"] = safe_header(subject)
    msg["From"] = safe_header(from_ or sender())
    msg["To"] = safe_header(to)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=site_domain())
    for name, value in (headers or {}).items():
        msg[name] = safe_header(value)
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg


@dataclass
class RawMessage:
    """One recipient's encoded message (bytes with CRLF line ends), ready for SMTP."""

    data: bytes
    recipient: str
    message_id: str

    def __getitem__(self, name: str) -> str | None:
        return self.message_id if name.lower() == "message-id" else None


class Prototype:
    """A multipart text + HTML message rendered once, then encoded for each recipient.

    The email package spends milliseconds parsing and folding headers per message; a bulk
    send only changes a few links per recipient, so this writes the MIME structure directly
    (quoted-printable bodies by binascii, RFC 2047 for non-ASCII headers).
    """

    def __init__(self, subject: str, text: str, html: str | None, from_: str | None = None):
        self.subject = _encoded_header(safe_header(" ".join(subject.split())))
        self.from_ = safe_header(from_ or sender())
        self.text, self.html, self.domain = text, html, site_domain()

    def message(self, name: str, address: str, headers: dict[str, str], text: str,
                html: str | None) -> RawMessage:
        """Encode one copy; `text`/`html` are this recipient's personalised bodies."""
        import binascii
        import secrets

        message_id = make_msgid(domain=self.domain)
        lines = [f"Subject: {self.subject}", f"From: {self.from_}",
                 f"To: {_encoded_address(safe_header(name), safe_header(address))}",
                 f"Date: {formatdate(localtime=False)}", f"Message-ID: {message_id}",
                 "MIME-Version: 1.0"]
        lines += [f"{name}: {safe_header(value)}" for name, value in headers.items()]
        parts = [("plain", text)] + ([("html", html)] if html is not None else [])
        boundary = f"=_margins_{secrets.token_hex(12)}"
        lines.append(f'Content-Type: multipart/alternative; boundary="{boundary}"')
        out = ["\r\n".join(lines).encode(), b"\r\n\r\n"]
        for subtype, body in parts:
            encoded = binascii.b2a_qp(body.replace("\r\n", "\n").encode(), istext=True)
            out += [f"--{boundary}\r\nContent-Type: text/{subtype}; charset=\"utf-8\"\r\n"
                    "Content-Transfer-Encoding: quoted-printable\r\n\r\n".encode(),
                    encoded.replace(b"\n", b"\r\n"), b"\r\n"]
        out.append(f"--{boundary}--\r\n".encode())
        return RawMessage(b"".join(out), address, message_id)


def _encoded_header(value: str) -> str:
    from email.header import Header

    return value if value.isascii() else Header(value, "utf-8").encode()


def _encoded_address(name: str, address: str) -> str:
    return formataddr((name, address), charset="utf-8") if name else address
