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
from urllib.parse import unquote, urlsplit

from flask import current_app, render_template
from jinja2 import TemplateNotFound


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
    return formataddr((current_app.config["SITE_NAME"], f"newsletter@{site_domain()}"))


def build(template: str, to: str, context: dict | None = None,
          headers: dict[str, str] | None = None, inline_css: bool = True) -> EmailMessage:
    """Render `template` for one recipient into a multipart text (+ HTML) message."""
    context = dict(context or {})
    context.setdefault("site_name", current_app.config["SITE_NAME"])
    context.setdefault("site_url", current_app.config["SITE_URL"])
    subject = render_template(f"email/{template}.subject.txt", **context).strip()
    msg = EmailMessage()
    msg["Subject"] = safe_header(" ".join(subject.split()))
    msg["From"] = safe_header(sender())
    msg["To"] = safe_header(to)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=site_domain())
    for name, value in (headers or {}).items():
        msg[name] = safe_header(value)
    msg.set_content(render_template(f"email/{template}.txt", **context))
    try:
        html = render_template(f"email/{template}.html", **context)
    except TemplateNotFound:
        html = None
    if html is not None:
        if inline_css:
            import css_inline

            html = css_inline.inline(html)
        msg.add_alternative(html, subtype="html")
    return msg


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

    def __enter__(self) -> SMTPConnection:
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

    def __enter__(self) -> MailboxConnection:
        self.box = open_mailbox(self.path)
        return self

    def send(self, msg: EmailMessage, envelope_from: str | None = None) -> None:
        if envelope_from:
            del msg["Return-Path"]
            msg["Return-Path"] = f"<{envelope_from}>"
        self.box.add(msg)

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
    context.setdefault("site_name", current_app.config["SITE_NAME"])
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
