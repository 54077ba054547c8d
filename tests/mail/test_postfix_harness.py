"""The private Postfix harness: strict, byte-faithful, private, and gone when the test ends."""

from __future__ import annotations

import os
import re
import smtplib
import socket
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest

from tests.support import postfix as harness
from tests.support import servers
from tests.support.postfix import (
    LMTPServer,
    PostfixError,
    PrivatePostfix,
    ensure_installed,
    postfix_relay_to,
    start_or_skip,
    wait_for,
)
from tests.support.smtp import SMTPServer

postfix_relay = harness.postfix_relay  # the fixture

LONG_LINE = "".join(f"{n:04d}." for n in range(300))  # 1500 characters, no spaces


def without_received(content: bytes) -> bytes:
    """`content` minus the one Received header Postfix prepends (with its folded lines)."""
    assert content.startswith(b"Received: "), content[:200]
    lines = content.split(b"\r\n")
    rest = 1
    while lines[rest][:1] in (b" ", b"\t"):
        rest += 1
    return b"\r\n".join(lines[rest:])


def newsletter(**extra: str) -> EmailMessage:
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = "Margins <news@margins.test>"
    msg["To"] = "reader@example.test"
    msg["Subject"] = (
        "Issue 12: a subject long enough that the email package folds it onto "
        "a second line — with a non-ASCII dash"
    )
    msg["Date"] = "Tue, 01 Dec 2026 10:00:00 +0000"
    msg["Message-ID"] = make_msgid(domain="margins.test")
    for name, value in extra.items():
        msg[name] = value
    return msg


def test_crlf_message_arrives_byte_for_byte(postfix_relay):
    msg = newsletter()
    msg.set_content("Hello,\r\n\r\nThis week: strict mail.\r\n-- \r\nMargins\r\n")
    sent = msg.as_bytes()
    assert b"\r\n " in sent and b"\n" not in sent.replace(b"\r\n", b"")  # folded, CRLF only

    assert postfix_relay.send(sent, "bounces@margins.test", ["reader@example.test"]) == {}
    (envelope,) = postfix_relay.wait_for()

    assert envelope.mail_from == "bounces@margins.test"
    assert envelope.rcpt_tos == ["reader@example.test"]
    assert without_received(envelope.original_content) == sent, (
        f"sent:\n{sent!r}\narrived:\n{envelope.original_content!r}"
    )


def test_a_message_without_date_or_message_id_is_not_completed(postfix_relay):
    """Postfix adds no headers of its own (but Received), so the app's omissions show."""
    sent = b"From: news@margins.test\r\nTo: reader@example.test\r\nSubject: bare\r\n\r\nhi\r\n"

    postfix_relay.send(sent)
    (envelope,) = postfix_relay.wait_for()

    assert without_received(envelope.original_content) == sent, envelope.original_content


@pytest.mark.parametrize("where", ["folded-header", "body-line"])
def test_bare_lf_is_rejected(postfix_relay, where):
    good = (
        b"From: news@margins.test\r\nTo: reader@example.test\r\n"
        b"Subject: a subject\r\n folded properly\r\n\r\nline one\r\nline two\r\n"
    )
    bad = (
        good.replace(b"\r\n folded", b"\n folded")
        if where == "folded-header"
        else good.replace(b"line one\r\n", b"line one\n")
    )
    assert bad.count(b"\n") == bad.count(b"\r\n") + 1

    with pytest.raises(smtplib.SMTPDataError) as caught:
        postfix_relay.send(bad)
    code, text = caught.value.smtp_code, caught.value.smtp_error
    assert code == 550 and b"bare <LF>" in text, f"Postfix replied {code} {text!r}"
    postfix_relay.postfix.wait_for_log(r"reject: END-OF-MESSAGE .*bare <LF> received")

    postfix_relay.send(good)  # the same message with CRLF only goes through
    (envelope,) = postfix_relay.wait_for()
    assert b"line one\r\nline two" in envelope.original_content


def test_dot_lines_and_a_long_quoted_printable_line_arrive_intact(postfix_relay):
    text = f".\n.leading dot\n..two dots\n. dot space\n{LONG_LINE}\nend\n"
    msg = newsletter()
    msg.set_content(text, cte="quoted-printable")
    sent = msg.as_bytes()
    assert max(len(line) for line in sent.split(b"\r\n")) <= 78
    assert b"\r\n.\r\n" in sent  # a lone dot line: smtplib has to dot-stuff it

    postfix_relay.send(sent)
    (envelope,) = postfix_relay.wait_for()

    assert without_received(envelope.original_content) == sent
    arrived = message_from_bytes(envelope.original_content, policy=policy.default)
    assert arrived.get_content().replace("\r\n", "\n") == text


def test_an_unencoded_1000_character_line_does_not_arrive_intact(postfix_relay):
    """Why the app must encode long lines: Postfix's smtp client splits them at 998."""
    assert postfix_relay.postfix.postconf("smtp_line_length_limit") == "998"
    sent = (
        b"From: news@margins.test\r\nTo: reader@example.test\r\nSubject: long\r\n\r\n"
        + LONG_LINE.encode()
        + b"\r\n"
    )

    postfix_relay.send(sent)
    (envelope,) = postfix_relay.wait_for()

    body = envelope.original_content.split(b"\r\n\r\n", 1)[1]
    head, tail = LONG_LINE[:998].encode(), LONG_LINE[998:].encode()
    assert body == head + b"\r\n " + tail + b"\r\n", body


def test_a_bare_cr_is_not_rejected_but_turned_into_a_space(postfix_relay):
    """Strictness tests cannot count on a 5xx for a stray CR: Postfix quietly edits it."""
    assert postfix_relay.postfix.postconf("cleanup_replace_stray_cr_lf") == "yes"
    sent = b"From: news@margins.test\r\nSubject: cr\r\n\r\nline\rmore\r\n"

    assert postfix_relay.send(sent) == {}
    (envelope,) = postfix_relay.wait_for()

    expected = sent.replace(b"line\rmore", b"line more")
    assert without_received(envelope.original_content) == expected, envelope.original_content


@pytest.mark.parametrize("protocol", ["lmtp", "smtp"])
def test_reply_addresses_go_to_their_server_and_the_rest_to_the_relay(protocol):
    server_class, option = {"lmtp": (LMTPServer, "lmtp_for"), "smtp": (SMTPServer, "smtp_for")}[
        protocol
    ]
    with (
        SMTPServer(servers.free_port()) as sink,
        server_class(servers.free_port()) as replies_at,
        postfix_relay_to(sink, **{option: {"reply@replies.test": replies_at.port}}) as relay,
    ):
        replies = ["reply+c41-t9f@replies.test", "reply+7a2@replies.test"]
        others = ["moderator@replies.test", "reader@example.test"]
        msg = newsletter(**{"In-Reply-To": "<n1@margins.test>"})
        msg.set_content("A reply to a comment.\n")
        sent = msg.as_bytes()

        assert relay.send(sent, "someone@example.test", replies + others) == {}
        (relayed,) = relay.wait_for()
        for address in replies:  # each one answered (LMTP wants one reply per recipient)
            relay.postfix.wait_for_log(
                rf"/{protocol}\[\d+\]: \w+: to=<{re.escape(address)}>, "
                rf"relay=127\.0\.0\.1\[127\.0\.0\.1\]:{replies_at.port},"
                r".* status=sent"
            )

        assert sorted(relayed.rcpt_tos) == sorted(others)
        delivered = replies_at.sink.envelopes
        assert sorted(r for e in delivered for r in e.rcpt_tos) == sorted(replies)
        assert all(without_received(e.original_content) == sent for e in delivered)


def need_postfix() -> None:
    servers.require(
        ensure_installed() and os.geteuid() == 0,
        "a private Postfix (apt-get install postfix; run as root)",
    )


def test_two_instances_are_private_and_leave_nothing_behind():
    main_cf = "/etc/postfix/main.cf"
    before = _stat(main_cf)
    port25_before = servers.reachable("127.0.0.1", 25)
    with SMTPServer(servers.free_port()) as sink_a, SMTPServer(servers.free_port()) as sink_b:
        a, b = PrivatePostfix(sink_a.port), PrivatePostfix(sink_b.port)
        try:
            start_or_skip(a)
            start_or_skip(b)
            assert a.port != b.port and a.root != b.root
            root_a, root_b, pids = a.root, b.root, (a.master_pid, b.master_pid)
            for postfix, subject in ((a, "to a"), (b, "to b")):
                with postfix.client() as client:
                    client.sendmail(
                        "s@margins.test",
                        ["r@example.test"],
                        f"Subject: {subject}\r\n\r\nhi\r\n".encode(),
                    )
            wait_for(sink_a.sink, 1, postfix=a)
            wait_for(sink_b.sink, 1, postfix=b)
            time.sleep(0.3)  # a stray cross-delivery would have arrived by now
            assert [m["Subject"] for m in sink_a.sink.messages] == ["to a"]
            assert [m["Subject"] for m in sink_b.sink.messages] == ["to b"]
            assert a.running and b.running
            groups = {pid: _live_group(pid) for pid in pids}
            assert all(len(members) >= 3 for members in groups.values()), groups
        finally:
            a.stop()
            b.stop()

    for postfix, root, pid in ((a, root_a, pids[0]), (b, root_b, pids[1])):
        assert not postfix.running and _live_group(pid) == [], f"{pid}: {_live_group(pid)}"
        assert not root.exists(), f"{root} was not removed"
        assert not servers.reachable("127.0.0.1", postfix.port)
    assert _stat(main_cf) == before, "/etc/postfix/main.cf changed"
    assert servers.reachable("127.0.0.1", 25) == port25_before


def test_a_loopback_exemption_is_caught_at_startup():
    """Postfix's default exclusions ($mynetworks) would exempt us: start() must refuse that."""
    need_postfix()
    postfix = PrivatePostfix(
        servers.free_port(), settings={"smtpd_forbid_bare_newline_exclusions": "$mynetworks"}
    )
    with pytest.raises(PostfixError, match="smtpd_forbid_bare_newline is not in force") as e:
        postfix.start()
    assert "250" in str(e.value), str(e.value)
    assert postfix.root is None and postfix.master_pid is None


def test_startup_failure_says_why_and_cleans_up():
    need_postfix()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        postfix = PrivatePostfix(servers.free_port(), port=taken.getsockname()[1])
        with pytest.raises(PostfixError) as caught:
            postfix.start()
    message = str(caught.value)
    assert "Address already in use" in message and "log tail" in message, message
    assert postfix.root is None and postfix.master_pid is None


def _stat(path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


def _live_group(pgid: int) -> list[str]:
    """Every non-zombie process in process group `pgid`, whatever it is."""
    found = []
    for entry in os.scandir("/proc"):
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        state, _ppid, pgrp = stat[stat.rfind(")") + 2 :].split()[:3]
        if int(pgrp) == pgid and state not in ("Z", "X"):
            found.append(stat[: stat.rfind(")") + 1])
    return found
