"""The writer's desk: drafts, preview, autosave, scheduling in the site's timezone, publishing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.extensions import db
from service.models import Event, Issue
from service.models.base import utcnow
from service.publishing import scheduling
from tests.conftest import login
from tests.factories import make_issue


@pytest.fixture
def app_config():
    return {"TIMEZONE": "Europe/Paris"}


def _draft(admin_client, **fields):
    data = {
        "title": "A new essay",
        "body_md": "Hello *world*",
        "category": "Notes",
        "author": "Ann Author",
        "bio": "writer",
        "comments_open": "1",
        "action": "save",
    }
    data.update(fields)
    return admin_client.post("/admin/issues/new", data=data)


def test_desk_is_for_admins_only(client, moderator):
    assert client.get("/admin/issues/").status_code == 302
    login(client, "bob@example.com", "bob-password-12")
    assert client.get("/admin/issues/").status_code == 403
    assert client.post("/admin/issues/new", data={"title": "x"}).status_code == 403
    assert client.post("/admin/issues/preview", json={"body_md": "x"}).status_code == 403


def test_writing_a_draft_keeps_it_private(admin_client, client):
    response = _draft(admin_client)
    assert response.status_code == 302
    issue = db.session.query(Issue).one()
    assert (issue.status, issue.slug, issue.category.name) == ("draft", "a-new-essay", "Notes")
    assert "<em>world</em>" in issue.body_html
    assert "A new essay" in admin_client.get("/admin/issues/").get_data(as_text=True)
    assert client.get("/issues/a-new-essay").status_code == 404
    assert db.session.query(Event).filter_by(action="issue.created").count() == 1


def test_preview_uses_the_public_renderer(admin_client):
    html = admin_client.post(
        "/admin/issues/preview", json={"body_md": "## Hi\n\n<script>x()</script>"}
    ).json["html"]
    assert "<h2>Hi</h2>" in html and "<script" not in html


def test_autosave_stores_the_text_without_publishing(admin_client):
    _draft(admin_client)
    issue = db.session.query(Issue).one()
    response = admin_client.post(
        f"/admin/issues/{issue.id}/autosave", json={"title": "Renamed", "body_md": "Typed so far"}
    )
    assert response.status_code == 200 and "saved_at" in response.json
    db.session.expire_all()
    issue = db.session.get(Issue, issue.id)
    assert (issue.title, issue.body_md, issue.status) == ("Renamed", "Typed so far", "draft")
    bad = admin_client.post(f"/admin/issues/{issue.id}/autosave", json={"title": " "})
    assert bad.status_code == 422 and "title" in bad.json["error"]


def test_schedule_is_entered_in_the_site_timezone(admin_client):
    _draft(admin_client)
    issue = db.session.query(Issue).one()
    local = (utcnow() + timedelta(days=2)).astimezone().replace(tzinfo=None)
    day = local.strftime("%Y-%m-%d")
    response = admin_client.post(
        f"/admin/issues/{issue.id}",
        data={
            "title": issue.title,
            "body_md": issue.body_md,
            "action": "schedule",
            "publish_at": f"{day}T09:30",
            "comments_open": "1",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    issue = db.session.get(Issue, issue.id)
    assert issue.status == "scheduled"
    paris = issue.publish_at.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Paris"))
    assert (paris.hour, paris.minute) == (9, 30)
    page = admin_client.get(f"/admin/issues/{issue.id}").get_data(as_text=True)
    assert "at 9:30 am" in page and "Europe/Paris" in page
    assert scheduling.publish_due(now=issue.publish_at + timedelta(seconds=1)) == [issue.id]


def test_scheduling_in_the_past_is_refused_and_keeps_the_text(admin_client):
    _draft(admin_client)
    issue = db.session.query(Issue).one()
    response = admin_client.post(
        f"/admin/issues/{issue.id}",
        data={
            "title": "Edited title",
            "body_md": "Edited body",
            "action": "schedule",
            "publish_at": "2001-01-01T10:00",
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "time in the future" in page and "Edited body" in page and "Edited title" in page
    db.session.expire_all()
    assert db.session.get(Issue, issue.id).status == "draft"


def test_taken_slug_is_refused_without_losing_the_text(admin_client):
    make_issue("Existing", publish=False)
    response = _draft(admin_client, slug="existing", body_md="Precious words")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "taken" in page and "Precious words" in page


def test_publish_now_and_unpublish(admin_client, client):
    _draft(admin_client)
    issue = db.session.query(Issue).one()
    admin_client.post(
        f"/admin/issues/{issue.id}",
        data={"title": issue.title, "body_md": issue.body_md, "action": "publish"},
    )
    assert client.get("/issues/a-new-essay").status_code == 200
    admin_client.post(
        f"/admin/issues/{issue.id}",
        data={"title": issue.title, "body_md": issue.body_md, "action": "unpublish"},
    )
    assert client.get("/issues/a-new-essay").status_code == 404
    assert b"A new essay" not in client.get("/feed.atom").data
    db.session.expire_all()
    assert db.session.get(Issue, issue.id).number == 1  # keeps its number


def test_publishing_without_email_records_the_choice(admin_client):
    _draft(admin_client)
    issue = db.session.query(Issue).one()
    admin_client.post(
        f"/admin/issues/{issue.id}",
        data={"title": issue.title, "body_md": issue.body_md, "action": "publish"},
    )
    db.session.expire_all()
    assert db.session.get(Issue, issue.id).email_subscribers is False
    event = db.session.query(Event).filter_by(action="issue.published").one()
    assert '"email_subscribers": false' in event.detail


def test_scheduled_time_keeps_its_offset(app):
    when = datetime(2030, 7, 1, 7, 30, tzinfo=UTC)
    issue = make_issue("Summer", publish=False)
    scheduling.schedule(issue.id, when)
    db.session.expire_all()
    assert db.session.get(Issue, issue.id).publish_at == when


def test_test_email_reaches_the_admin_as_subscribers_get_it(app, admin_client, smtp):
    app.config["SMTP_URL"] = smtp.url
    issue = make_issue("Proof copy", body="Read *this* first.", publish=False)
    response = admin_client.post(f"/admin/issues/{issue.id}/test-email", follow_redirects=True)
    assert "Test email sent to alice@example.com" in response.get_data(as_text=True)
    (msg,) = smtp.sink.messages
    assert msg["To"].endswith("<alice@example.com>") or msg["To"] == "alice@example.com"
    assert "Proof copy" in msg["Subject"]
    assert "List-Unsubscribe" in msg and msg["List-Unsubscribe-Post"]
    assert "Read this first." in msg.get_body(("plain",)).get_content().replace("*", "")
    assert msg.get_body(("html",)) is not None
    db.session.expire_all()
    assert db.session.get(Issue, issue.id).status == "draft"


def test_test_email_failure_is_reported(app, admin_client):
    app.config["SMTP_URL"] = "smtp://127.0.0.1:9"
    issue = make_issue("Unsendable", publish=False)
    page = admin_client.post(
        f"/admin/issues/{issue.id}/test-email", follow_redirects=True
    ).get_data(as_text=True)
    assert "could not be sent" in page
