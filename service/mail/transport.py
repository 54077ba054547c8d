"""Transports: an SMTP connection for many messages, or the local Maildir (the embedded default).

Without SMTP_URL, messages land in a local Maildir (MARGINS_HOME/mailbox) that admins read at
/admin/mailbox.
"""

from __future__ import annotations

import mailbox
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol, Self

from flask import current_app

from service.config import SMTPSettings
from service.mail.bulk import RawMessage


class Connection(Protocol):
    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> None: ...
    def send(self, msg: EmailMessage, envelope_from: str | None = None) -> None: ...
    def send_raw(self, msg: RawMessage, envelope_from: str) -> None: ...


class SMTPConnection:
    """One SMTP connection for many messages (use as a context manager)."""

    def __init__(self, settings: SMTPSettings, timeout: float = 30):
        self.settings, self.timeout = settings, timeout
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Self:
        s = self.settings
        if s.mode == "ssl":
            self.smtp = smtplib.SMTP_SSL(
                s.host, s.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            self.smtp = smtplib.SMTP(s.host, s.port, timeout=self.timeout)
            if s.mode == "starttls":
                self.smtp.starttls(context=ssl.create_default_context())
        if s.username:
            self.smtp.login(s.username, s.password or "")
        return self

    @property
    def _smtp(self) -> smtplib.SMTP:
        assert self.smtp is not None, "use the connection as a context manager"
        return self.smtp

    def send(self, msg: EmailMessage, envelope_from: str | None = None) -> None:
        self._smtp.send_message(msg, from_addr=envelope_from)

    def send_raw(self, msg: RawMessage, envelope_from: str) -> None:
        """Send an already-encoded message (see bulk.Prototype) to its one recipient."""
        self._smtp.sendmail(envelope_from, [msg.recipient], msg.data)

    def __exit__(self, *exc: object) -> None:
        try:
            self._smtp.quit()
        except (smtplib.SMTPException, OSError):
            self._smtp.close()


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

    def __exit__(self, *exc: object) -> None:
        self.box.close()


def open_url(url: str) -> SMTPConnection | MailboxConnection:
    """A connection to one SMTP server URL, or to the local mailbox when `url` is empty."""
    if not url:
        return MailboxConnection(current_app.config["MAILBOX_DIR"])
    return SMTPConnection(SMTPSettings.from_url(url))


def connection() -> SMTPConnection | MailboxConnection:
    """Open the configured transport: SMTP when SMTP_URL is set, else the local mailbox."""
    return open_url(current_app.config.get("SMTP_URL") or "")


def send(msg: EmailMessage, envelope_from: str | None = None) -> str:
    """Send one message now on its own connection; return its Message-ID."""
    with connection() as conn:
        conn.send(msg, envelope_from)
    return str(msg["Message-ID"])
