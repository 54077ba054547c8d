"""Commenters' privacy: no email in any public response, IP erasure, purges, export and delete."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from urllib.parse import quote, urlsplit

import pytest
from sqlalchemy import select

from service.comments import data_requests, retention
from service.extensions import db
from service.models import Comment
from service.models.base import utcnow
from tests.comments.conftest import post_comment
from tests.factories import make_comment, make_issue

SECRET_EMAIL = "zelda.q.private-7731@distinct-mail.example"
TRACES = (
    SECRET_EMAIL,
    "zelda.q.private-7731",
    "distinct-mail.example",
    quote(SECRET_EMAIL),
    SECRET_EMAIL.upper(),
)


@pytest.fixture
def app_config(smtp):
    return {"SMTP_URL": smtp.url}


def assert_private(response) -> None:
    text = response.get_data(as_text=True) + str(response.headers)
    for trace in TRACES:
        assert trace not in text, f"{trace!r} leaked in {response.request.path}"


def test_the_email_appears_in_no_public_response(app, client):
    issue = make_issue("Privacy")
    approved = make_comment(
        issue, name="Zelda", email=SECRET_EMAIL, author_url="https://zelda.example", minutes_ago=30
    )
    make_comment(issue, body="Answer.", parent=approved, email="other@example.net")
    post_comment(client, issue, author="Zelda", email=SECRET_EMAIL, comment="Pending one.")
    reader = app.test_client()
    page = reader.get(f"/issues/{issue.slug}")
    assert "Zelda" in page.get_data(as_text=True)
    avatar = re.search(r'src="(/avatar/[0-9a-f]+\.svg)"', page.get_data(as_text=True)).group(1)
    for path in (
        "/",
        "/archive",
        f"/issues/{issue.slug}",
        "/feed.atom",
        "/sitemap.xml",
        avatar,
        "/no-such-page",
        f"/issues/{issue.slug}?replytocom={approved.id}",
    ):
        assert_private(reader.get(path))
    assert_private(client.get(f"/issues/{issue.slug}"))  # not even to its own author's page


def test_avatars_use_a_keyed_hash_never_md5(app):
    issue = make_issue()
    comment = make_comment(issue, email=SECRET_EMAIL)
    assert comment.avatar_key not in (
        hashlib.md5(SECRET_EMAIL.encode()).hexdigest(),
        hashlib.sha256(SECRET_EMAIL.encode()).hexdigest()[:32],
    )


def test_refusal_pages_never_show_the_email(app, client):
    issue = make_issue()
    make_comment(issue, body="Said once.", email=SECRET_EMAIL, minutes_ago=10)
    duplicate = post_comment(client, issue, email=SECRET_EMAIL, comment="Said once.")
    assert duplicate.status_code == 409
    assert_private(duplicate)
    assert post_comment(client, issue, email=SECRET_EMAIL, comment="New.").status_code == 303
    flood = post_comment(client, issue, email=SECRET_EMAIL, comment="Newer.")
    assert flood.status_code == 429
    assert_private(flood)
    invalid = post_comment(client, issue, email="zelda.q.private-7731@", comment="Typo.")
    errors = re.search(
        r'<ul class="form-errors">.*?</ul>', invalid.get_data(as_text=True), re.DOTALL
    )
    assert invalid.status_code == 400 and "zelda" not in errors.group(0)


def test_ips_and_user_agents_are_erased_after_the_retention_period(app):
    issue = make_issue()
    old = make_comment(issue, author_ip="192.0.2.1", user_agent="Old/1.0", minutes_ago=31 * 1440)
    new = make_comment(issue, body="New.", author_ip="192.0.2.2", user_agent="New/1.0")
    assert retention.erase_old_ips() == 1
    db.session.expire_all()
    assert (old.author_ip, old.user_agent) == ("", "")
    assert (new.author_ip, new.user_agent) == ("192.0.2.2", "New/1.0")


def test_spam_and_trash_are_purged_after_n_days(app):
    issue = make_issue()
    long_ago = utcnow() - timedelta(days=31)
    make_comment(issue, body="Old spam.", status="spam", decided_at=long_ago, minutes_ago=45000)
    make_comment(issue, body="Old trash.", status="trash", decided_at=long_ago, minutes_ago=45000)
    make_comment(issue, body="New spam.", status="spam", decided_at=utcnow())
    make_comment(issue, body="Old approved.", minutes_ago=45000)
    assert retention.purge_old() == 2
    left = db.session.scalars(select(Comment.body_md).order_by(Comment.id)).all()
    assert left == ["New spam.", "Old approved."]


def _run_data_tasks(now=None) -> int:
    """What the worker does with the recorded requests (comments.send_data_link)."""
    return sum(
        data_requests.send_link(i, now=now)
        for i in data_requests.unsent_requests(older_than_seconds=-1, now=now)
    )


def _data_link(client, smtp, action: str) -> str:
    response = client.post("/comments/your-data", data={"email": SECRET_EMAIL, "action": action})
    assert response.status_code == 200 and "Check your inbox" in response.get_data(as_text=True)
    _run_data_tasks()
    (message,) = smtp.sink.to(SECRET_EMAIL)
    text = message.get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"http://margins\.test/comments/your-data/\S+", text).group(0)
    assert SECRET_EMAIL not in link
    return urlsplit(link).path


def test_a_commenter_can_export_their_comments_by_emailed_link(app, client, smtp):
    issue = make_issue("Exported")
    make_comment(issue, body="Mine to keep.", email=SECRET_EMAIL, author_ip="192.0.2.9")
    make_comment(issue, body="Someone else's.", email="else@example.net")
    path = _data_link(client, smtp, "export")
    assert "1 comment from your address" in client.get(path).get_data(as_text=True)
    download = client.post(path)
    assert download.headers["Content-Disposition"].startswith("attachment")
    (item,) = json.loads(download.get_data(as_text=True))["comments"]
    assert (item["comment_markdown"], item["email"], item["ip"]) == (
        "Mine to keep.",
        SECRET_EMAIL,
        "192.0.2.9",
    )


def test_a_commenter_can_delete_all_their_comments_by_emailed_link(app, client, smtp):
    issue = make_issue()
    mine = make_comment(issue, body="Delete me.", email=SECRET_EMAIL)
    make_comment(issue, body="Reply stays.", parent=mine, email="else@example.net")
    path = _data_link(client, smtp, "delete")
    client.get(path)
    assert db.session.scalar(select(Comment.id).where(Comment.id == mine.id)) is not None
    assert "1 comment deleted." in client.post(path).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalars(select(Comment.body_md)).all() == ["Reply stays."]


def test_data_requests_for_unknown_addresses_send_nothing(app, client, smtp):
    response = client.post(
        "/comments/your-data", data={"email": "nobody@example.net", "action": "delete"}
    )
    assert "Check your inbox" in response.get_data(as_text=True)
    assert _run_data_tasks() == 0
    assert smtp.sink.messages == []


def _without_form_stamps(response) -> str:
    """The page without the signed times of its forms (they change from one second to the
    next, whoever asks)."""
    return re.sub(r'(name="stamp" value=")[^"]*"', r'\1STAMP"', response.get_data(as_text=True))


def test_a_data_request_answers_the_same_for_any_address_and_mails_from_a_task(
    app, client, smtp, enqueued
):
    from tests.support.servers import free_port

    make_comment(make_issue(), body="Mine.", email=SECRET_EMAIL)
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"  # even with the mail server down
    answers = [
        client.post("/comments/your-data", data={"email": email, "action": "export"})
        for email in (SECRET_EMAIL, "nobody@example.net")
    ]
    assert [a.status_code for a in answers] == [200, 200]
    assert _without_form_stamps(answers[0]) == _without_form_stamps(answers[1])
    assert [name for name, *_ in enqueued] == ["comments.send_data_link"] * 2
    app.config["SMTP_URL"] = smtp.url
    assert smtp.sink.messages == []  # nothing is sent inside the request
    assert _run_data_tasks() == 1
    assert len(smtp.sink.to(SECRET_EMAIL)) == 1 and smtp.sink.to("nobody@example.net") == []


def test_at_most_one_data_email_per_address_per_hour(app, client, smtp, enqueued):
    make_comment(make_issue(), body="Mine.", email=SECRET_EMAIL)
    for action in ("export", "delete", "export"):
        client.post("/comments/your-data", data={"email": SECRET_EMAIL, "action": action})
    assert _run_data_tasks() == 1
    client.post("/comments/your-data", data={"email": SECRET_EMAIL.upper(), "action": "delete"})
    assert _run_data_tasks() == 0
    assert len(smtp.sink.to(SECRET_EMAIL)) == 1
    client.post("/comments/your-data", data={"email": SECRET_EMAIL, "action": "delete"})
    assert _run_data_tasks(now=utcnow() + timedelta(minutes=61)) == 1
    assert len(smtp.sink.messages) == 2


def test_no_transaction_is_open_while_sending_a_data_link(app, client, smtp, transactions_at_send):
    make_comment(make_issue(), body="Mine.", email=SECRET_EMAIL)
    client.post("/comments/your-data", data={"email": SECRET_EMAIL, "action": "export"})
    assert _run_data_tasks() == 1
    assert transactions_at_send == [False]
