"""`margins inbound` (the LMTP/SMTP server for reply addresses) and `margins process-replies`."""

from __future__ import annotations

import logging
import signal
import threading

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from service.comments.email_replies import receiving
from service.mail import reply_address
from service.mail.inbound.server import InboundServer

log = logging.getLogger(__name__)


def _deliverer(app: Flask):
    def deliver(raw: bytes, recipients: list[str]) -> str:
        with app.app_context():
            outcome = receiving.receive(raw, recipients)
        log.info("a message for %s: %s", recipients[0] if recipients else "?", outcome)
        return outcome

    return deliver


def _acceptor(app: Flask):
    def accept(address: str) -> bool:
        with app.app_context():
            return reply_address.looks_like_reply_address(address)

    return accept


def server_for(app: Flask, host: str, port: int, protocol: str) -> InboundServer:
    """The inbound server, receiving replies into `app`'s database."""
    return InboundServer(_deliverer(app), _acceptor(app), host, port, protocol)


@click.command("inbound")
@click.option("--host", help="address to listen on (INBOUND_HOST, default 127.0.0.1)")
@click.option("--port", type=int, help="port to listen on (INBOUND_PORT, default 2525)")
@click.option(
    "--protocol",
    type=click.Choice(["lmtp", "smtp"]),
    help="LMTP for a mail server's transport (INBOUND_PROTOCOL, default lmtp), or SMTP",
)
@with_appcontext
def inbound_command(host: str | None, port: int | None, protocol: str | None) -> None:
    """Receive replies to issue emails over LMTP or SMTP until stopped."""
    config = current_app.config
    if not config.get("REPLY_DOMAIN"):
        raise click.ClickException(
            "REPLY_DOMAIN is not set, so issue emails carry no reply address to receive"
        )
    host, port = host or config["INBOUND_HOST"], port or config["INBOUND_PORT"]
    protocol = protocol or config["INBOUND_PROTOCOL"]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    server = server_for(current_app._get_current_object(), host, port, protocol)  # type: ignore[attr-defined]
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    server.start()
    click.echo(
        f"margins inbound: {protocol.upper()} on {host}:{port} "
        f"for reply+…@{config['REPLY_DOMAIN']} (Ctrl-C stops)"
    )
    while not stop.wait(1):
        pass
    server.stop()


@click.command("process-replies")
@click.argument("maildir", type=click.Path(file_okay=False))
@with_appcontext
def process_replies(maildir: str) -> None:
    """Read replies to issue emails from a Maildir, store them, remove them."""
    counts = receiving.process_maildir(maildir)
    click.echo(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "no messages")
