"""Outgoing webhooks: signed POSTs to a real HTTP server on loopback, retries, the log."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from service import webhooks
from service.extensions import db
from service.models import Event, WebhookDelivery
from service.models.base import utcnow
from service.publishing import scheduling
from tests.conftest import login
from tests.factories import make_issue


class Receiver:
    """An HTTP endpoint that records requests and answers with the next queued status."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                self.send_response(receiver.answers.pop(0) if receiver.answers else 204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()


def test_publishing_posts_a_signed_event(app, receiver):
    hook = webhooks.register(receiver.url, ["issue.published"], "alice@example.com")
    issue = make_issue("Hooked")
    assert webhooks.deliver_due() == 1
    (request,) = receiver.requests
    headers, body = request["headers"], request["body"]
    assert headers["X-Margins-Event"] == "issue.published"
    expected = webhooks.signature(hook.secret, headers["X-Margins-Timestamp"], body)
    assert headers["X-Margins-Signature"] == expected
    payload = json.loads(body)
    assert payload["data"]["title"] == "Hooked" and payload["data"]["number"] == issue.number
    assert payload["data"]["url"] == f"http://margins.test/issues/{issue.slug}"
    assert db.session.query(WebhookDelivery).one().status == "sent"


def test_endpoints_get_only_the_events_they_chose(app, receiver):
    webhooks.register(receiver.url, ["comment.approved"], "alice@example.com")
    make_issue("Not for this hook")
    assert webhooks.deliver_due() == 0 and receiver.requests == []


def test_a_failing_endpoint_is_retried_with_backoff_then_given_up(app, receiver):
    webhooks.register(receiver.url, ["issue.published"], "alice@example.com")
    make_issue("Flaky")
    receiver.answers = [500, 503]
    assert webhooks.deliver_due() == 0
    row = db.session.query(WebhookDelivery).one()
    assert (row.status, row.attempts, row.last_status_code) == ("queued", 1, 500)
    assert row.next_attempt_at > utcnow() + timedelta(seconds=20)
    assert webhooks.deliver_due() == 0  # not due yet: nothing sent
    assert len(receiver.requests) == 1
    assert webhooks.deliver_due(now=row.next_attempt_at + timedelta(seconds=1)) == 0
    assert webhooks.deliver_due(now=utcnow() + timedelta(hours=1)) == 1
    db.session.expire_all()
    row = db.session.get(WebhookDelivery, row.id)
    assert (row.status, row.attempts) == ("sent", 3)


def test_an_unreachable_endpoint_fails_after_the_last_try(app):
    webhooks.register("http://127.0.0.1:9/nothing", ["issue.published"], "alice@example.com")
    make_issue("Nobody listens")
    later = utcnow()
    for _ in range(webhooks.MAX_ATTEMPTS):
        later += timedelta(hours=2)
        webhooks.deliver_due(now=later)
    row = db.session.query(WebhookDelivery).one()
    assert row.status == "failed" and row.attempts == webhooks.MAX_ATTEMPTS
    assert row.last_error


def test_a_rolled_back_publication_sends_nothing(app, receiver):
    webhooks.register(receiver.url, ["issue.published"], "alice@example.com")
    issue = make_issue("Rolled back", publish=False)
    scheduling._mark_published(issue, utcnow(), "test", False)
    db.session.rollback()
    assert db.session.query(WebhookDelivery).count() == 0


def test_admin_manages_webhooks_and_sees_the_log(admin_client, receiver):
    page = admin_client.post(
        "/admin/webhooks/",
        data={"url": receiver.url, "events": ["issue.published"]},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "signing secret" in page and receiver.url in page
    bad = admin_client.post("/admin/webhooks/", data={"url": "ftp://x", "events": []})
    assert bad.status_code == 422 and "https://" in bad.get_data(as_text=True)
    make_issue("Logged")
    webhooks.deliver_due()
    log = admin_client.get("/admin/webhooks/").get_data(as_text=True)
    assert "issue.published" in log and "sent" in log
    assert db.session.query(Event).filter_by(action="webhook.created").count() == 1


def test_webhooks_are_admin_only(client, moderator):
    assert client.get("/admin/webhooks/").status_code == 302
    login(client, "bob@example.com", "bob-password-12")
    assert client.get("/admin/webhooks/").status_code == 403
    assert client.post("/admin/webhooks/", data={"url": "http://x"}).status_code == 403


def test_comment_events_carry_no_email(app, receiver):
    from service.moderation import actions
    from tests.factories import make_comment

    webhooks.register(receiver.url, ["comment.approved"], "alice@example.com")
    issue = make_issue("Talk")
    comment = make_comment(issue, status="pending", email="secret-reader@example.net")
    actions.act("approve", [comment.id], "alice@example.com")
    assert webhooks.deliver_due() == 1
    body = receiver.requests[0]["body"].decode()
    payload = json.loads(body)["data"]
    assert payload["id"] == comment.id and payload["status"] == "approved"
    assert payload["url"].endswith(f"#comment-{comment.id}")
    assert "secret-reader" not in body


def test_subscriber_events_are_sent(app, receiver):
    from service.models import Subscriber
    from service.newsletter import subscriptions

    webhooks.register(
        receiver.url, ["subscriber.confirmed", "subscriber.unsubscribed"], "alice@example.com"
    )
    sub = Subscriber(email="new-reader@example.org", status="pending")
    db.session.add(sub)
    db.session.commit()
    from service.core import tokens

    subscriptions.confirm(tokens.make("confirm", {"s": sub.id, "e": sub.email}))
    subscriptions.unsubscribe(sub.id, via="one-click")
    assert webhooks.deliver_due() == 2
    events = [json.loads(r["body"]) for r in receiver.requests]
    assert [e["event"] for e in events] == ["subscriber.confirmed", "subscriber.unsubscribed"]
    assert events[0]["data"]["email"] == "new-reader@example.org"
    assert events[1]["data"]["via"] == "one-click"
