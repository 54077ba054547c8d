"""Email: build one message from templates, headers in one place, the transports (SMTP and the
local Maildir), and the pre-encoded bulk form newsletter sends use.

The package's names are the way in: `mail.build(...)`, `mail.send(msg)`, `mail.open_url(url)`.
"""

from service.mail.bulk import Prototype, RawMessage
from service.mail.headers import HeaderInjectionError, safe_header, sender, site_domain
from service.mail.message import assemble, build, render_parts
from service.mail.transport import (
    Connection,
    MailboxConnection,
    SMTPConnection,
    connection,
    open_mailbox,
    open_url,
    send,
)

__all__ = [
    "Connection",
    "HeaderInjectionError",
    "MailboxConnection",
    "Prototype",
    "RawMessage",
    "SMTPConnection",
    "assemble",
    "build",
    "connection",
    "open_mailbox",
    "open_url",
    "render_parts",
    "safe_header",
    "send",
    "sender",
    "site_domain",
]
