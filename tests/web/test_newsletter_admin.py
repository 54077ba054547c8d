"""The newsletter admin: subscriber list, CSV import and export, send progress, pause/resume."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from service.extensions import db
from service.models import Send, Subscriber
from service.models.base import utcnow
from service.newsletter import sending
from tests.conftest import login
from tests.factories import make_issue


def add(email: str, status: str = "active", name: str = "", mode: str = "issue") -> None:
    db.session.add(
        Subscriber(
            email=email,
            status=status,
            name=name,
            delivery=mode,
            confirmed_at=utcnow() if status == "active" else None,
        )
    )
    db.session.commit()


def status_of(email: str) -> str:
    return db.session.scalar(
        select(Subscriber.status)
        .where(Subscriber.email == email)
        .execution_options(populate_existing=True)
    )


def test_list_searches_filters_and_paginates(admin_client):
    add("ann@example.com", name="Ann Archer")
    add("bob@example.com", status="unsubscribed")
    add("cat@example.org", mode="weekly")
    for i in range(55):
        add(f"bulk{i:02d}@example.net")
    page = admin_client.get("/admin/newsletter/?q=archer").data
    assert b"ann@example.com" in page and b"bob@example.com" not in page
    page = admin_client.get("/admin/newsletter/?status=unsubscribed").data
    assert b"bob@example.com" in page and b"ann@example.com" not in page
    page = admin_client.get("/admin/newsletter/?delivery=weekly").data
    assert b"cat@example.org" in page and b"1 subscriber<" in page
    first = admin_client.get("/admin/newsletter/").data
    second = admin_client.get("/admin/newsletter/?page=2").data
    assert b"Page 1 of 2" in first and b"Page 2 of 2" in second


def test_moderators_cannot_see_subscribers(client, moderator):
    login(client, "bob@example.com", "bob-password-12")
    assert client.get("/admin/newsletter/").status_code == 403
    assert client.get("/admin/newsletter/subscribers.csv").status_code == 403


def test_csv_export_follows_filters_and_defuses_formulas(admin_client):
    add("ann@example.com", name='=HYPERLINK("http://evil")')
    add("bob@example.com", status="bounced")
    response = admin_client.get("/admin/newsletter/subscribers.csv?status=active")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["email"] for r in rows] == ["ann@example.com"]
    assert rows[0]["name"].startswith("'=")


def upload(client, text: str):
    return client.post(
        "/admin/newsletter/import",
        data={"file": (io.BytesIO(text.encode()), "list.csv")},
        content_type="multipart/form-data",
    )


def test_csv_import_respects_consent_and_confirmation_with_per_row_errors(admin_client):
    add("left@example.com", status="unsubscribed")
    text = (
        "email,name,consent,confirmed\n"
        "new.active@example.com,Ann,yes,yes\n"
        "new.pending@example.com,Bob,yes,no\n"
        "not-an-address,Eve,yes,yes\n"
        "noconsent@example.com,Zed,no,yes\n"
        "left@example.com,Left,yes,yes\n"
        "new.active@example.com,Again,yes,yes\n"
    )
    page = upload(admin_client, text).data.decode()
    assert "1 added as active, 1 added awaiting confirmation, 1 already on the list" in page
    assert "does not look right" in page and "no consent recorded" in page
    assert "appears twice" in page and "<td>4</td>" in page
    assert status_of("new.active@example.com") == "active"
    assert status_of("new.pending@example.com") == "pending"
    assert status_of("left@example.com") == "unsubscribed"
    assert status_of("noconsent@example.com") is None


def test_csv_without_an_email_column_is_refused(admin_client):
    page = upload(admin_client, "name,consent\nAnn,yes\n").data
    assert b"including &#39;email&#39;" in page
    assert db.session.scalar(select(Subscriber.id)) is None


def test_send_page_shows_progress_and_pause_resume_sends_nothing_twice(admin_client, app, smtp):
    app.config["SMTP_URL"] = smtp.url
    for i in range(4):
        add(f"r{i}@example.com")
    issue = make_issue("Progress")
    send = db.session.scalar(select(Send).where(Send.issue_id == issue.id))
    page = admin_client.get(f"/admin/newsletter/sends/{send.id}").data
    assert b'http-equiv="refresh"' in page and b"0 sent" in page and b"4 queued" in page
    admin_client.post(f"/admin/newsletter/sends/{send.id}/pause")
    assert sending.drain(send.id) == 0
    page = admin_client.get(f"/admin/newsletter/sends/{send.id}").data
    assert b"paused" in page and b"Resume" in page
    admin_client.post(f"/admin/newsletter/sends/{send.id}/resume")
    sending.drain(send.id)
    progress = admin_client.get(f"/admin/newsletter/sends/{send.id}.json").json
    assert progress["sent"] == 4 and progress["status"] == "finished"
    assert len(smtp.sink.messages) == 4
    listing = admin_client.get("/admin/newsletter/sends").data
    assert b"Issue: Progress" in listing and b"4 sent" in listing
