"""The delivery ledger: planning on publish, claiming, sending, retrying, pausing."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from service.core import settings
from service.extensions import db
from service.mail.headers import parse_verp
from service.models import Delivery, Send, Subscriber
from service.models.base import utcnow
from service.newsletter import ledger, marks, sending, sendrate, sweeps
from service.publishing import scheduling
from tests.factories import make_issue
from tests.support import servers


def add_subscriber(
    email: str, status: str = "active", mode: str = "issue", name: str = ""
) -> Subscriber:
    sub = Subscriber(
        email=email,
        name=name,
        status=status,
        delivery=mode,
        confirmed_at=utcnow() - timedelta(days=30) if status == "active" else None,
    )
    db.session.add(sub)
    db.session.commit()
    return sub


def audience(n: int = 3) -> list[Subscriber]:
    subs = [add_subscriber(f"reader{i}@example.com", name=f"Reader {i}") for i in range(n)]
    add_subscriber("weekly@example.com", mode="weekly")
    add_subscriber("pending@example.com", status="pending")
    add_subscriber("left@example.com", status="unsubscribed")
    return subs


def the_send(issue) -> Send:
    return db.session.scalar(select(Send).where(Send.kind == "issue", Send.key == str(issue.id)))


def rows(send: Send) -> list[Delivery]:
    return db.session.scalars(
        select(Delivery)
        .where(Delivery.send_id == send.id)
        .order_by(Delivery.id)
        .execution_options(populate_existing=True)
    ).all()


def test_publishing_emails_each_active_issue_subscriber_once(app, smtp):
    app.config["SMTP_URL"] = smtp.url
    audience(3)
    issue = make_issue("The long view", body="Some **words** worth reading.")
    send = the_send(issue)
    assert len(rows(send)) == 3
    assert sending.drain(send.id) == 3
    received = sorted(m["To"] for m in smtp.sink.messages)
    assert received == [f"Reader {i} <reader{i}@example.com>" for i in range(3)]
    assert all(r.status == "sent" and r.message_id and r.sent_at for r in rows(send))
    assert db.session.get(Send, send.id, populate_existing=True).status == "finished"
    scheduling.unpublish(issue.id)
    scheduling.publish(issue.id)
    assert sending.drain(send.id) == 0 and len(smtp.sink.messages) == 3


def test_issue_email_carries_the_bulk_and_unsubscribe_headers(app, smtp):
    app.config["SMTP_URL"] = smtp.url
    sub = add_subscriber("ann@example.com")
    issue = make_issue("Headers")
    sending.drain(the_send(issue).id)
    msg, envelope = smtp.sink.messages[0], smtp.sink.envelopes[0]
    one_click, mailto = [v.strip(" <>") for v in msg["List-Unsubscribe"].split(",")]
    assert one_click.startswith("http://margins.test/unsubscribe/")
    assert one_click.endswith("/one-click") and mailto.startswith("mailto:unsubscribe+")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["List-Id"] == '"Margins Test" <newsletter.margins.test>'
    assert msg["Archived-At"] == f"<http://margins.test/issues/{issue.slug}>"
    assert msg["Precedence"] == "bulk" and msg["Auto-Submitted"] == "auto-generated"
    assert parse_verp(envelope.mail_from) == ("bounces", sub.id)
    html = msg.get_body(preferencelist=("html",)).get_content()
    text = msg.get_body(preferencelist=("plain",)).get_content()
    assert "View in browser" in html and "<style" not in html and 'style="' in html
    assert "/subscribe/preferences/" in text and "/unsubscribe/" in text
    client = app.test_client()
    assert (
        client.post(
            one_click.replace("http://margins.test", ""), data={"List-Unsubscribe": "One-Click"}
        ).status_code
        == 200
    )
    assert db.session.get(Subscriber, sub.id, populate_existing=True).status == "unsubscribed"


def test_temporary_failure_451_retries_with_backoff_then_delivers(app, smtp):
    app.config["SMTP_URL"] = smtp.url
    settings.put("newsletter.retry_base_seconds", 0)
    db.session.commit()
    add_subscriber("slow@example.com")
    answers = iter(["451 4.3.0 try again later"] * 2)
    smtp.sink.reply = lambda envelope: next(answers, None)
    send = the_send(make_issue("Busy server"))
    sending.drain(send.id)
    [row] = rows(send)
    assert row.status == "sent" and row.attempts == 3
    assert len(smtp.sink.to("slow@example.com")) == 1


def test_backoff_grows_exponentially_with_jitter(app):
    delays = [marks.retry_delay(n).total_seconds() for n in (1, 2, 3, 4)]
    for n, delay in enumerate(delays):
        assert 60 * 2**n * 0.5 <= delay <= 60 * 2**n


def test_user_unknown_marks_the_subscriber_bounced_and_other_5xx_only_fails(app, smtp):
    app.config["SMTP_URL"] = smtp.url
    gone = add_subscriber("gone@example.com")
    blocked = add_subscriber("blocked@example.com")
    fine = add_subscriber("fine@example.com")

    def reply(envelope):
        if "gone@" in envelope.rcpt_tos[0]:
            return "550 5.1.1 <gone@example.com>: Recipient address rejected: User unknown"
        if "blocked@" in envelope.rcpt_tos[0]:
            return "554 5.7.1 Message refused by policy"
        return None

    smtp.sink.reply = reply
    send = the_send(make_issue("Refusals"))
    sending.drain(send.id)
    status = {r.subscriber_id: r.status for r in rows(send)}
    assert status == {gone.id: "failed", blocked.id: "failed", fine.id: "sent"}
    subs = {
        s.id: s.status
        for s in db.session.scalars(select(Subscriber).execution_options(populate_existing=True))
    }
    assert subs[gone.id] == "bounced" and subs[blocked.id] == "active"


def test_unreachable_server_leaves_rows_queued_for_a_later_retry(app):
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{servers.free_port()}"
    add_subscriber("a@example.com")
    add_subscriber("b@example.com")
    send = the_send(make_issue("Nobody home"))
    assert sending.drain(send.id) == 0
    assert all(
        r.status == "queued"
        and r.attempts == 1
        and r.retry_at > utcnow()
        and "Connection" in r.last_error
        for r in rows(send)
    )


def test_errors_pause_the_send_and_resume_sends_the_rest_exactly_once(app, smtp):
    app.config["SMTP_URL"] = smtp.url
    settings.put("newsletter.pause_after_errors", 2)
    settings.put("newsletter.retry_base_seconds", 0)
    settings.put("newsletter.batch_size", 2)
    db.session.commit()
    audience(6)
    refusing = {"on": True}
    smtp.sink.reply = lambda envelope: "451 4.7.1 slow down" if refusing["on"] else None
    send = the_send(make_issue("Pause me"))
    sending.drain(send.id)
    assert db.session.get(Send, send.id, populate_existing=True).status == "paused"
    assert sending.drain(send.id) == 0  # a paused send is not claimed
    refusing["on"] = False
    sweeps.resume(send.id, "alice@example.com")
    sending.drain(send.id)
    assert sorted(m["To"] for m in smtp.sink.messages) == sorted(
        f"Reader {i} <reader{i}@example.com>" for i in range(6)
    )
    assert ledger.progress(send.id) | {} == {
        "queued": 0,
        "sending": 0,
        "sent": 6,
        "failed": 0,
        "total": 6,
        "done": 6,
    }


def test_lease_sweep_returns_claims_of_a_dead_worker(app):
    audience(3)
    send = the_send(make_issue("Lease"))
    _token, ids = ledger.claim(send.id, 10)
    assert len(ids) == 3 and ledger.claim(send.id, 10)[1] == []
    sweeps.sweep(utcnow() + timedelta(seconds=10))  # within the lease: nothing moves
    assert all(r.status == "sending" for r in rows(send))
    sweeps.sweep(utcnow() + timedelta(hours=1))
    assert sorted(ledger.claim(send.id, 10)[1]) == sorted(ids)


def test_concurrent_claimers_never_take_the_same_row(app):
    audience(60)
    send = the_send(make_issue("Race"))
    taken: list[list[int]] = [[], []]

    def claimer(slot: int) -> None:
        with app.app_context():
            while True:
                _, ids = ledger.claim(send.id, 7)
                if not ids:
                    break
                taken[slot] += ids
            db.session.remove()

    threads = [threading.Thread(target=claimer, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not set(taken[0]) & set(taken[1])
    assert len(taken[0]) + len(taken[1]) == 60


def test_subscriber_who_leaves_after_planning_gets_nothing(app, smtp):
    app.config["SMTP_URL"] = smtp.url
    stays, leaves = add_subscriber("stays@example.com"), add_subscriber("leaves@example.com")
    send = the_send(make_issue("Goodbye"))
    db.session.get(Subscriber, leaves.id).status = "unsubscribed"
    db.session.commit()
    sending.drain(send.id)
    assert [m["To"] for m in smtp.sink.messages] == ["stays@example.com"]
    assert stays.id != leaves.id


def test_send_rate_bucket_is_shared_between_workers(app):
    now = [1000.0]
    first = sendrate.Bucket("smtp.example:25", rate=10, burst=10, clock=lambda: now[0], url="")
    second = sendrate.Bucket("smtp.example:25", rate=10, burst=10, clock=lambda: now[0], url="")
    assert first.take(10) == 10
    assert second.take(1) == 0
    now[0] += 0.5
    assert second.take(10) == 5 and first.take(1) == 0


def test_send_rate_bucket_in_redis(app):
    servers.require(servers.reachable("127.0.0.1", 6379), "Redis on 127.0.0.1:6379")
    import redis

    redis.Redis.from_url(servers.REDIS_URL).delete("margins:sendrate:redis-test")
    now = [1000.0]
    first = sendrate.Bucket(
        "redis-test", rate=4, burst=4, clock=lambda: now[0], url=servers.REDIS_URL
    )
    second = sendrate.Bucket(
        "redis-test", rate=4, burst=4, clock=lambda: now[0], url=servers.REDIS_URL
    )
    assert first.take(4) == 4 and second.take(1) == 0
    now[0] += 1.0
    assert second.take(4) == 4


def test_cli_send_issue_reports_progress(app, smtp, runner):
    app.config["SMTP_URL"] = smtp.url
    audience(4)
    issue = make_issue("From the terminal")
    result = runner.invoke(["send-issue", str(issue.number)])
    assert result.exit_code == 0, result.output
    assert "sent 4, failed 0" in result.output and len(smtp.sink.messages) == 4
    assert runner.invoke(["send-issue", "99"]).exit_code != 0


def test_batches_are_spread_over_several_smtp_servers(app, smtp):
    from tests.support.smtp import SMTPServer

    settings.put("newsletter.batch_size", 1)
    db.session.commit()
    audience(4)
    with SMTPServer(servers.free_port()) as second:
        app.config["NEWSLETTER_SMTP_URLS"] = f"{smtp.url}, {second.url}"
        sending.drain(the_send(make_issue("Two servers")).id)
        assert len(smtp.sink.messages) == len(second.sink.messages) == 2


def test_a_stored_name_with_a_line_break_fails_its_row_not_the_send(app, smtp):
    app.config["SMTP_URL"] = smtp.url
    add_subscriber("ok@example.com")
    evil = add_subscriber("evil@example.com", name="Eve\r\nBcc: victim@example.org")
    send = the_send(make_issue("Injection"))
    sending.drain(send.id)
    status = {r.subscriber_id: (r.status, r.last_error) for r in rows(send)}
    assert status[evil.id][0] == "failed" and "control characters" in status[evil.id][1]
    assert [m["To"] for m in smtp.sink.messages] == ["ok@example.com"]
    assert all("victim" not in str(e.rcpt_tos) for e in smtp.sink.envelopes)


def test_sending_takes_tokens_from_the_shared_bucket_of_its_server(app, smtp):
    from service.models import SendRate

    app.config["SMTP_URL"] = smtp.url
    settings.put("newsletter.rate_per_second", 1000)
    db.session.commit()
    audience(3)
    sending.drain(the_send(make_issue("Metered")).id)
    bucket = db.session.get(SendRate, f"127.0.0.1:{smtp.port}")
    assert bucket is not None and bucket.tokens < 1000
    assert len(smtp.sink.messages) == 3


def test_a_send_with_nobody_to_send_to_is_finished_at_once(app):
    from service.models import Send
    from tests.factories import make_issue

    make_issue("To nobody")
    send = db.session.query(Send).one()
    assert send.status == "finished" and send.finished_at is not None


@pytest.mark.parametrize("leaving", ["unsubscribe", "complaint"])
def test_someone_leaving_during_a_send_gets_nothing_more(app, smtp, leaving):
    from service.newsletter import bounces, subscriptions

    app.config["SMTP_URL"] = smtp.url
    subs = [add_subscriber(f"{n}@example.com") for n in ("first", "leaver", "last")]
    leaver_id = subs[1].id
    send = the_send(make_issue("Mid-send"))  # all three rows claimed in one batch

    def reply(envelope):  # while the first message arrives, the leaver leaves
        if envelope.rcpt_tos == ["first@example.com"]:
            with app.app_context():
                if leaving == "unsubscribe":
                    subscriptions.unsubscribe(leaver_id, via="one-click")
                else:
                    bounces.process_event("complaint", "leaver@example.com")
                db.session.remove()

    smtp.sink.reply = reply
    assert sending.drain(send.id) == 2
    assert [m["To"] for m in smtp.sink.messages] == ["first@example.com", "last@example.com"]
    row = {r.subscriber_id: r for r in rows(send)}[leaver_id]
    assert row.status == "failed" and row.last_error.startswith("skipped: subscriber is")
