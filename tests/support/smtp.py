"""A real SMTP server (aiosmtpd) on loopback that keeps what it receives."""

from __future__ import annotations

import threading
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope


class Sink:
    """Collects messages; `reply` may answer some with an SMTP error code instead."""

    def __init__(self):
        self.messages = []
        self.envelopes = []
        self.lock = threading.Lock()
        self.reply = None  # callable(envelope) -> "451 ..." or None

    async def handle_DATA(self, server, session, envelope: Envelope):
        if self.reply is not None:
            answer = self.reply(envelope)
            if answer:
                return answer
        with self.lock:
            self.envelopes.append(envelope)
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def to(self, address: str):
        return [m for m in self.messages if address in (m["To"] or "")]


class SMTPServer:
    def __init__(self, port: int):
        self.sink = Sink()
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=port)
        self.port = port

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()
