"""The moderator view: access for each persona, the queue, every action, signed links."""

from __future__ import annotations

import time

import pytest
from itsdangerous.timed import TimestampSigner
from sqlalchemy.exc import IntegrityError, StatementError

from service.extensions import db
from service.models import Comment, Event, User
from service.moderation import actions, decisions, notices
from service.staff import accounts
from tests.conftest import login
from tests.factories import make_comment, make_issue

GETS = [
    "/moderate/",
    "/moderate/pending",
    "/moderate/spam",
    "/moderate/approved",
    "/moderate/rejected",
    "/moderate/commenter?email=rita@example.net",
    "/moderate/audit",
    "/moderate/comments/{id}/edit",
    "/moderate/settings",
]
POSTS = [
    "/moderate/comments/{id}/approve",
    "/moderate/comments/{id}/spam",
    "/moderate/comments/{id}/reject",
    "/moderate/comments/{id}/notspam",
    "/moderate/comments/{id}/restore",
    "/moderate/comments/{id}/delete",
    "/moderate/bulk",
    "/moderate/comments/{id}/edit",
    "/moderate/comments/{id}/reply",
    "/moderate/comments/{id}/ban",
    "/moderate/settings",
]
POST_DATA = {
    "ids": "{id}",
    "action": "approve",
    "body": "hi",
    "name": "x",
    "email": "1",
    "ip": "1",
    "spam_threshold": "0.9",
}


@pytest.fixture
def issue(app):
    return make_issue("Queue test")


@pytest.fixture
def pending(issue):
    return make_comment(
        issue,
        status="pending",
        body="Waiting *patiently*",
        email="rita@example.net",
        author_ip="192.0.2.5",
        author_url="https://rita.example",
        decision="held",
        decision_reasons="first comment from this commenter",
        spam_score=0.31,
    )


@pytest.fixture
def mod_client(client, moderator):
    login(client, "bob@example.com", "bob-password-12")
    return client


def _status(comment_id: int) -> str | None:
    db.session.expire_all()
    comment = db.session.get(Comment, comment_id)
    return comment.status if comment else None


def _refused_everywhere(client, comment_id: int, expect) -> None:
    for url in GETS:
        response = client.get(url.format(id=comment_id))
        assert expect(response, url), (url, response.status_code)
    data = {k: v.format(id=comment_id) for k, v in POST_DATA.items()}
    for url in POSTS:
        response = client.post(url.format(id=comment_id), data=data)
        assert expect(response, url), (url, response.status_code)
    assert _status(comment_id) == "pending"


def test_anonymous_visitors_are_sent_to_the_login_page_everywhere(client, pending):
    _refused_everywhere(
        client,
        pending.id,
        lambda r, url: r.status_code == 302 and "/login" in r.headers["Location"],
    )


def test_an_account_with_an_unknown_role_cannot_exist(client, pending):
    """Roles are a StrEnum with a CHECK constraint: a 'writer' is refused before the database,
    and by the database itself (so no such account can reach a staff page)."""
    user = User(
        email="writer@example.com",
        name="Wendy",
        role="writer",
        password_hash=accounts.hash_password("writer-password-1"),
    )
    db.session.add(user)
    with pytest.raises(StatementError, match="not among the defined enum values"):
        db.session.commit()
    db.session.rollback()
    with pytest.raises(IntegrityError):
        db.session.execute(
            db.text(
                "INSERT INTO users (email, name, password_hash, role, active, created_at) "
                "VALUES ('w@example.com', 'W', '', 'writer', true, CURRENT_TIMESTAMP)"
            )
        )
        db.session.commit()
    db.session.rollback()


def test_a_deactivated_moderator_loses_access_at_once(mod_client, pending, admin, moderator):
    assert mod_client.get("/moderate/pending").status_code == 200
    from service.staff import team

    team.set_active(moderator.id, False, admin)
    _refused_everywhere(mod_client, pending.id, lambda r, url: r.status_code == 302)


def test_moderators_may_not_change_settings_or_staff(mod_client, pending):
    assert mod_client.get("/moderate/settings").status_code == 403
    assert mod_client.post("/moderate/settings", data={"spam_threshold": "0.5"}).status_code == 403
    assert mod_client.get("/staff/").status_code == 403


def test_the_queue_shows_everything_a_moderator_needs(mod_client, issue, pending):
    parent = make_comment(issue, status="approved", name="Paul Parent", body="Parent words")
    make_comment(
        issue, status="pending", body="A reply here", parent=parent, email="rita@example.net"
    )
    make_comment(issue, status="spam", body="old spam", email="rita@example.net")
    page = mod_client.get("/moderate/pending").get_data(as_text=True)
    assert 'Pending <span class="count">(2)</span>' in page
    assert 'Spam <span class="count">(1)</span>' in page
    assert "Queue test" in page and "rita@example.net" in page and "https://rita.example" in page
    assert "192.0.2.5" in page and "<em>patiently</em>" in page
    assert "first comment from this commenter" in page and "0.31" in page
    assert "In reply to <strong>Paul Parent</strong>" in page
    assert "1 spam" in page and "2 pending" in page


def test_approve_from_the_queue_publishes_and_is_audited(mod_client, pending):
    response = mod_client.post(
        f"/moderate/comments/{pending.id}/approve", data={"next": "/moderate/pending"}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/moderate/pending"
    assert _status(pending.id) == "approved"
    event = db.session.query(Event).filter_by(action="comment.approve").one()
    assert event.actor == "bob@example.com"
    assert "bob@example.com" in mod_client.get("/moderate/audit").get_data(as_text=True)


def test_the_keyboard_script_gets_json(mod_client, pending):
    response = mod_client.post(
        f"/moderate/comments/{pending.id}/spam", headers={"Accept": "application/json"}
    )
    assert response.json == {
        "changed": [pending.id],
        "status": "spam",
        "message": "Comment marked spam.",
    }


def test_bulk_actions_change_every_selected_comment(mod_client, issue, pending):
    other = make_comment(issue, status="pending", body="Another")
    keep = make_comment(issue, status="pending", body="Not selected")
    mod_client.post("/moderate/bulk", data={"action": "reject", "ids": [pending.id, other.id]})
    assert [_status(pending.id), _status(other.id), _status(keep.id)] == [
        "trash",
        "trash",
        "pending",
    ]
    rejected = mod_client.get("/moderate/rejected").get_data(as_text=True)
    assert "Waiting" in rejected and "Not selected" not in rejected


def test_edit_reply_and_ban_from_the_view(mod_client, pending):
    response = mod_client.post(
        f"/moderate/comments/{pending.id}/edit",
        data={"name": "Rita R.", "email": "rita@example.net", "url": "", "body": "Edited text"},
    )
    assert response.status_code == 302
    assert db.session.get(Comment, pending.id).body_md == "Edited text"
    mod_client.post(f"/moderate/comments/{pending.id}/reply", data={"body": "Thanks!"})
    reply = db.session.query(Comment).filter_by(parent_id=pending.id).one()
    assert reply.is_author_reply and reply.status == "approved"
    mod_client.post(f"/moderate/comments/{pending.id}/ban", data={"ip": "1"})
    assert _status(pending.id) == "spam"
    settings_page = mod_client.get("/moderate/spam").get_data(as_text=True)
    assert "Edited text" in settings_page


def test_pagination_walks_every_comment_once(mod_client, issue):
    ids = {
        make_comment(issue, status="pending", body=f"Comment {n}", minutes_ago=n % 7).id
        for n in range(60)
    }
    seen, url = [], "/moderate/pending"
    while url:
        page = mod_client.get(url).get_data(as_text=True)
        seen += [int(i) for i in __import__("re").findall(r'data-id="(\d+)"', page)]
        found = __import__("re").search(r'rel="next" href="([^"]+)"', page)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert sorted(seen) == sorted(ids)


def test_admin_changes_moderation_settings(admin_client):
    form = {
        "max_links": "4",
        "notify_interval_minutes": "10",
        "link_days": "2",
        "classifier_min_trained": "30",
        "spam_threshold": "0.97",
        "words": "casino",
        "banned_ips": "203.0.113.0/24",
        "require_known": "1",
        "notify": "1",
    }
    assert admin_client.post("/moderate/settings", data=form).status_code == 302
    page = admin_client.get("/moderate/settings").get_data(as_text=True)
    assert "203.0.113.0/24" in page and 'value="0.97"' in page
    assert 'name="hold_threshold"' in page and 'value="0.5"' in page
    admin_client.post("/moderate/settings", data={**form, "hold_threshold": "0.7"})
    assert 'value="0.7"' in admin_client.get("/moderate/settings").get_data(as_text=True)
    bad = admin_client.post("/moderate/settings", data={**form, "hold_threshold": "0.98"})
    assert bad.status_code == 400 and "hold threshold" in bad.get_data(as_text=True)
    bad = admin_client.post("/moderate/settings", data={**form, "banned_ips": "nope"})
    assert bad.status_code == 400 and "not an IP" in bad.get_data(as_text=True)


# --- signed one-click links -----------------------------------------------------------------


def test_a_link_get_shows_a_confirmation_and_changes_nothing(client, pending, moderator):
    token = notices.link_token("approve", pending.id, moderator.id)
    page = client.get(f"/moderate/link/approve/{token}")
    assert page.status_code == 200 and "Approve this comment?" in page.get_data(as_text=True)
    assert _status(pending.id) == "pending"
    done = client.post(f"/moderate/link/approve/{token}")
    assert done.status_code == 200 and "now <strong>approved</strong>" in done.get_data(
        as_text=True
    )
    assert _status(pending.id) == "approved"
    assert (
        db.session.query(Event).filter_by(action="comment.approve").one().actor
        == "bob@example.com (email link)"
    )


def test_a_tampered_link_is_refused(client, pending, moderator):
    token = notices.link_token("spam", pending.id, moderator.id)
    forged = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    assert client.get(f"/moderate/link/spam/{forged}").status_code == 400
    assert client.post(f"/moderate/link/spam/{forged}").status_code == 400
    assert _status(pending.id) == "pending"


def test_a_link_for_another_purpose_is_refused(client, pending, moderator):
    token = notices.link_token("approve", pending.id, moderator.id)
    assert client.post(f"/moderate/link/spam/{token}").status_code == 400
    assert client.post(f"/moderate/link/delete/{token}").status_code == 400
    from service.core import tokens

    other = tokens.make("confirm", {"c": pending.id, "u": moderator.id})
    assert client.post(f"/moderate/link/approve/{other}").status_code == 400
    assert _status(pending.id) == "pending"


def test_an_expired_link_is_refused(client, pending, moderator, monkeypatch):
    real = TimestampSigner.get_timestamp
    monkeypatch.setattr(
        TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 3 * 86400 - 60
    )
    token = notices.link_token("approve", pending.id, moderator.id)
    monkeypatch.setattr(TimestampSigner, "get_timestamp", real)
    response = client.post(f"/moderate/link/approve/{token}")
    assert response.status_code == 400 and "expired" in response.get_data(as_text=True)
    assert _status(pending.id) == "pending"


def test_a_link_of_a_deactivated_moderator_is_refused(client, pending, moderator, admin):
    from service.staff import team

    token = notices.link_token("approve", pending.id, moderator.id)
    team.set_active(moderator.id, False, admin)
    assert client.post(f"/moderate/link/approve/{token}").status_code == 403
    assert _status(pending.id) == "pending"


def test_a_late_task_after_a_link_decision_changes_nothing(client, issue, moderator):
    comment = make_comment(issue, status="pending", moderation_due=True, body="Hello")
    token = notices.link_token("spam", comment.id, moderator.id)
    client.post(f"/moderate/link/spam/{token}")
    assert decisions.moderate_comment(comment.id) is None
    assert _status(comment.id) == "spam"


def test_a_malformed_or_naive_cursor_still_shows_a_page(mod_client, pending):
    for cursor in ("nonsense", "2026-01-01T00:00:00~x", "2999-01-01T00:00:00~99"):
        response = mod_client.get(f"/moderate/pending?before={cursor}")
        assert response.status_code == 200
    assert "Waiting" in mod_client.get("/moderate/pending?before=2999-01-01T00:00:00~9").get_data(
        as_text=True
    )


def test_a_link_never_overrides_a_decision_made_since_the_email(client, pending, moderator, admin):
    token = notices.link_token("spam", pending.id, moderator.id)
    actions.act("approve", [pending.id], admin.email)
    page = client.get(f"/moderate/link/spam/{token}")
    assert page.headers["Cache-Control"] == "private, no-store"
    assert f"already decided: <strong>approved</strong> by {admin.email}" in page.get_data(
        as_text=True
    )
    done = client.post(f"/moderate/link/spam/{token}")
    assert done.headers["Cache-Control"] == "private, no-store"
    assert "already decided: <strong>approved</strong>" in done.get_data(as_text=True)
    assert _status(pending.id) == "approved"
    assert db.session.query(Event).filter_by(action="comment.spam").count() == 0
    assert (
        client.get(f"/moderate/link/spam/{token}x").headers["Cache-Control"] == "private, no-store"
    )
