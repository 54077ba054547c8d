"""Staff accounts: invitations by signed email link, roles, deactivation."""

from __future__ import annotations

import re

import pytest

from service.core import tokens
from service.extensions import db
from service.models import User
from service.staff import team
from tests.conftest import login


@pytest.fixture
def mailed(app, smtp):
    app.config["SMTP_URL"] = smtp.url
    return smtp


def _invite_link(smtp, address: str) -> str:
    message = smtp.sink.to(address)[-1]
    text = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"http://margins\.test(/staff/accept/\S+)", text).group(1)


def test_an_admin_invites_a_moderator_who_sets_a_password(admin_client, mailed):
    response = admin_client.post(
        "/staff/invite", data={"email": "Carol@Example.com", "role": "moderator"}
    )
    assert response.status_code == 302
    link = _invite_link(mailed, "carol@example.com")
    admin_client.post("/logout")
    form = admin_client.get(link)
    assert form.status_code == 200 and "carol@example.com" in form.get_data(as_text=True)
    done = admin_client.post(
        link,
        data={"name": "Carol", "password": "carol-password-1", "password2": "carol-password-1"},
    )
    assert done.status_code == 302 and "/moderate/pending" in done.headers["Location"]
    assert admin_client.get("/moderate/pending").status_code == 200
    carol = db.session.query(User).filter_by(email="carol@example.com").one()
    assert carol.role == "moderator"
    assert admin_client.get(link).status_code == 400  # each invitation works once


def test_an_invitation_cannot_be_forged_or_reused_for_another_role(app, admin, mailed):
    team.invite("dave@example.com", "moderator", admin)
    token = _invite_link(mailed, "dave@example.com").rsplit("/", 1)[1]
    client = app.test_client()
    assert client.get(f"/staff/accept/{token[:-2]}xx").status_code == 400
    forged = tokens.make("moderate:approve", {"email": "dave@example.com", "role": "admin"})
    assert client.get(f"/staff/accept/{forged}").status_code == 400


def test_moderators_cannot_invite(client, moderator, mailed):
    login(client, "bob@example.com", "bob-password-12")
    assert (
        client.post("/staff/invite", data={"email": "eve@example.com", "role": "admin"}).status_code
        == 403
    )
    assert mailed.sink.messages == []


def test_roles_change_and_the_last_admin_stays(admin_client, admin, moderator):
    admin_client.post(f"/staff/{moderator.id}/role", data={"role": "admin"})
    assert db.session.get(User, moderator.id).role == "admin"
    admin_client.post(f"/staff/{moderator.id}/role", data={"role": "moderator"})
    with pytest.raises(team.StaffError, match="at least one active admin"):
        team.set_role(admin.id, "moderator", admin)


def test_deactivating_ends_access_and_login(admin_client, client, moderator, app):
    admin_client.post(f"/staff/{moderator.id}/active", data={"active": "0"})
    assert not db.session.get(User, moderator.id).active
    other = app.test_client()
    assert login(other, "bob@example.com", "bob-password-12").status_code == 401
    with pytest.raises(team.StaffError, match="your own"):
        team.set_active(
            db.session.query(User).filter_by(role="admin").one().id,
            False,
            db.session.query(User).filter_by(role="admin").one(),
        )


STAFF_URLS = [
    ("get", "/staff/"),
    ("post", "/staff/invite"),
    ("post", "/staff/1/role"),
    ("post", "/staff/1/active"),
]


def test_anonymous_and_moderators_are_refused_every_staff_url(client, admin, moderator, mailed):
    for method, url in STAFF_URLS:
        response = getattr(client, method)(
            url, data={"role": "moderator", "active": "0", "email": "x@example.com"}
        )
        assert response.status_code == 302 and "/login" in response.headers["Location"], url
    login(client, "bob@example.com", "bob-password-12")
    for method, url in STAFF_URLS:
        response = getattr(client, method)(
            url, data={"role": "moderator", "active": "0", "email": "x@example.com"}
        )
        assert response.status_code == 403, url
    db.session.expire_all()
    assert db.session.get(User, admin.id).role == "admin" and db.session.get(User, admin.id).active
    assert mailed.sink.messages == []
