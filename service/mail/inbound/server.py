"""The LMTP (or SMTP) server a mail server hands reply addresses to: `margins inbound`.

LMTP (RFC 2033) answers every recipient of a message on its own line after DATA, so the mail
server in front knows which deliveries to retry. Recipients that are not reply addresses are
refused at RCPT (550 5.1.1); a reply address of the right shape with a bad MAC is accepted and
dropped by the caller, so a forger learns nothing. When `deliver` fails (the database is
away) the answer is 451: the mail server keeps the message and tries again later, and the
message key makes a repeated delivery harmless.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP

log = logging.getLogger(__name__)

#: Called with the raw message and one envelope recipient; raises when it could not store it.
Deliver = Callable[[bytes, list[str]], object]
#: Whether a RCPT TO address is one this server takes.
Accept = Callable[[str], bool]
SIZE_LIMIT = 25 * 1024 * 1024  # bytes: a reply with a photo or two


class Handler:
    """aiosmtpd's handler: check recipients, then hand each one's delivery to `deliver`."""

    def __init__(self, deliver: Deliver, accept: Accept):
        self.deliver, self.accept = deliver, accept

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if not self.accept(address):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        loop = asyncio.get_running_loop()
        answers = []
        for recipient in envelope.rcpt_tos:
            try:  # the database work runs off the event loop, so other sessions keep going
                await loop.run_in_executor(None, self.deliver, raw, [recipient])
                answers.append("250 2.0.0 Delivered")
            except Exception:
                log.exception("could not store a message for %s; asking to retry", recipient)
                answers.append("451 4.3.0 Could not store the message now; try again later")
        if isinstance(server, LMTP):
            return "\r\n".join(answers)
        failed = [a for a in answers if not a.startswith("250")]
        return failed[0] if failed else answers[0]


class InboundServer(Controller):
    """The server on `host`:`port` in a thread of its own (start() / stop())."""

    def __init__(
        self, deliver: Deliver, accept: Accept, host: str, port: int, protocol: str = "lmtp"
    ):
        super().__init__(
            Handler(deliver, accept),
            hostname=host,
            port=port,
            data_size_limit=SIZE_LIMIT,
            enable_SMTPUTF8=True,
        )
        self.protocol = protocol

    def factory(self) -> Any:
        server_class = LMTP if self.protocol == "lmtp" else SMTP
        return server_class(self.handler, **self.SMTP_kwargs)
