"""`margins inbound` behind a real Postfix: reply addresses reach it over LMTP (or SMTP) and
become rows; `margins process-replies` reads a Maildir."""

from __future__ import annotations

import mailbox
import re
import signal
import subprocess
import sys

import pytest
from sqlalchemy import select

from service.extensions import db
from service.mail import reply_address
from service.models import Comment, CommentStatus, EmailReply, ReplyStatus
from tests.comments.email_reply_helpers import REPLY_DOMAIN, fixture_to, reader, replies
from tests.factories import make_issue
from tests.support import processes, servers
from tests.support.postfix import postfix_relay_context


@pytest.fixture
def app_config():
    return {"REPLY_DOMAIN": REPLY_DOMAIN}


def start_inbound(tmp_path, db_url: str, port: int, protocol: str) -> subprocess.Popen:
    env = processes.process_env(
        tmp_path,
        db_url,
        REPLY_DOMAIN=REPLY_DOMAIN,
        INBOUND_PORT=str(port),
        INBOUND_PROTOCOL=protocol,
        CELERY_BROKER_URL="memory://",
    )
    log = tmp_path / f"inbound-{port}.log"
    proc = subprocess.Popen(
        [sys.executable, "-c", "from service.cli import main; main()", "inbound"],
        env=env,
        cwd=processes.ROOT,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    processes.wait_for(
        lambda: servers.reachable("127.0.0.1", port) or proc.poll() is not None,
        timeout=60,
        what="margins inbound to listen",
    )
    assert proc.poll() is None, log.read_text()
    return proc


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # a file the child process shares
@pytest.mark.parametrize("protocol", ["lmtp", "smtp"])
def test_postfix_hands_replies_to_margins_inbound(app, tmp_path, db_url, protocol):
    issue = make_issue("Café society")
    lea, hana = reader(mode="publish"), reader(email="hana@example.com", name="Hana Kim")
    port = servers.free_port()
    option = {"lmtp": "lmtp_for", "smtp": "smtp_for"}[protocol]
    inbound = start_inbound(tmp_path, db_url, port, protocol)
    try:
        with postfix_relay_context(**{option: {f"reply@{REPLY_DOMAIN}": port}}) as relay:
            for name, sub in (("gmail_plain_and_html.eml", lea), ("auto_reply_ooo.eml", hana)):
                to = reply_address.reply_address(issue.id, sub.id)
                message = fixture_to(name, issue.id, sub.id)
                assert relay.send(message, "reader@example.com", [to]) == {}
                relay.postfix.wait_for_log(
                    rf"/{protocol}\[\d+\]: \w+: to=<{re.escape(to)}>, "
                    rf"relay=127\.0\.0\.1\[127\.0\.0\.1\]:{port},.* status=sent"
                )
    finally:
        processes.stop(inbound, signal.SIGTERM)
    assert inbound.returncode == 0, (tmp_path / f"inbound-{port}.log").read_text()

    (reply,) = replies()  # the out-of-office answer was dropped
    assert reply.subscriber_id == lea.id and reply.status == ReplyStatus.PUBLISHED
    comment = db.session.scalar(select(Comment))
    assert comment.status == CommentStatus.PENDING and comment.moderation_due
    assert "reading rooms made me smile" in comment.body_md and "wrote:" not in comment.body_md


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_process_replies_reads_and_empties_a_maildir(app, runner, tmp_path):
    issue = make_issue()
    sub = reader(mode="private")
    box = mailbox.Maildir(tmp_path / "replies", create=True)
    box.add(fixture_to("thunderbird.eml", issue.id, sub.id))
    box.add(fixture_to("dsn_bounce.eml", issue.id, sub.id))

    result = runner.invoke(["process-replies", str(tmp_path / "replies")])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "bounce: 1, private: 1"
    assert len(box) == 0
    assert [r.status for r in replies()] == [ReplyStatus.PRIVATE]


def test_inbound_refuses_to_start_without_a_reply_domain(app, runner):
    app.config["REPLY_DOMAIN"] = ""
    result = runner.invoke(["inbound"])
    assert result.exit_code != 0 and "REPLY_DOMAIN is not set" in result.output


def test_the_periodic_task_reads_reply_maildir(app, tmp_path):
    from service.comments.email_replies import receiving

    issue = make_issue()
    sub = reader(mode="private")
    app.config["REPLY_MAILDIR"] = str(tmp_path / "in")
    mailbox.Maildir(tmp_path / "in", create=True).add(fixture_to("outlook.eml", issue.id, sub.id))
    assert receiving.process_configured_maildir() == {"private": 1}
    assert db.session.scalar(select(EmailReply.status)) == ReplyStatus.PRIVATE
