"""The inbound LMTP/SMTP server: refuses strangers at RCPT, answers each LMTP recipient on
its own, and asks the mail server to retry (451) when a message could not be stored."""

from __future__ import annotations

import smtplib
import socket

import pytest

from service.mail.inbound.server import InboundServer
from tests.support import servers

MESSAGE = b"From: a@example.net\r\nTo: reply+1@replies.test\r\nSubject: hi\r\n\r\nHello.\r\n"


class Recorder:
    def __init__(self, fail_for: str = ""):
        self.got: list[tuple[bytes, list[str]]] = []
        self.fail_for = fail_for

    def __call__(self, raw: bytes, recipients: list[str]) -> str:
        if recipients == [self.fail_for]:
            raise RuntimeError("the database is away")
        self.got.append((raw, recipients))
        return "stored"


def accept(address: str) -> bool:
    return address.startswith("reply+") and address.endswith("@replies.test")


@pytest.fixture
def serve():
    started = []

    def start(deliver, protocol):
        server = InboundServer(deliver, accept, "127.0.0.1", servers.free_port(), protocol)
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def _lmtp_session(port: int, recipients: list[str]) -> list[str]:
    """A raw LMTP session (smtplib's LMTP reads only one answer after DATA); the answers."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        lines = conn.makefile("rb")

        def answer() -> str:
            while True:
                line = lines.readline().decode().rstrip("\r\n")
                if line[3:4] != "-":
                    return line

        answer()  # greeting
        for command in ["LHLO client.test", "MAIL FROM:<a@example.net>"] + [
            f"RCPT TO:<{r}>" for r in recipients
        ]:
            conn.sendall(command.encode() + b"\r\n")
            assert answer().startswith("250"), command
        conn.sendall(b"DATA\r\n")
        assert answer().startswith("354")
        conn.sendall(MESSAGE + b".\r\n")
        replies = [answer() for _ in recipients]
        conn.sendall(b"QUIT\r\n")
        return replies


def test_lmtp_answers_each_recipient_and_asks_to_retry_only_the_failed_one(serve):
    deliver = Recorder(fail_for="reply+2@replies.test")
    server = serve(deliver, "lmtp")

    answers = _lmtp_session(server.port, ["reply+1@replies.test", "reply+2@replies.test"])

    assert [a[:3] for a in answers] == ["250", "451"]
    assert [(raw, to) for raw, to in deliver.got] == [(MESSAGE, ["reply+1@replies.test"])]


def test_an_address_that_is_not_a_reply_address_is_refused_at_rcpt(serve):
    deliver = Recorder()
    server = serve(deliver, "smtp")
    with (
        smtplib.SMTP("127.0.0.1", server.port) as client,
        pytest.raises(smtplib.SMTPRecipientsRefused) as refused,
    ):
        client.sendmail("a@example.net", ["postmaster@replies.test"], MESSAGE)
    ((code, _),) = refused.value.recipients.values()
    assert code == 550 and deliver.got == []


def test_smtp_asks_to_retry_when_the_message_could_not_be_stored(serve):
    server = serve(Recorder(fail_for="reply+1@replies.test"), "smtp")
    with (
        smtplib.SMTP("127.0.0.1", server.port) as client,
        pytest.raises(smtplib.SMTPDataError) as failed,
    ):
        client.sendmail("a@example.net", ["reply+1@replies.test"], MESSAGE)
    assert failed.value.smtp_code == 451
