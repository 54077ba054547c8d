"""Staff login, roles and the pages that need them."""

from __future__ import annotations

import pytest

from tests.conftest import login


def test_admin_pages_require_login(client):
    for url in ("/admin/", "/admin/mailbox"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_wrong_password_is_refused_without_saying_which_part(client, admin):
    response = login(client, "alice@example.com", "wrong-password")
    assert response.status_code == 401
    assert "do not match an active account" in response.get_data(as_text=True)
    assert login(client, "nobody@example.com", "wrong-password").status_code == 401
    assert client.get("/admin/").status_code == 302


def test_login_then_dashboard_then_logout(client, admin):
    response = login(client, "Alice@Example.com", "alice-password-1")
    assert response.status_code == 302
    assert "Dashboard" in client.get("/admin/").get_data(as_text=True)
    client.post("/logout")
    assert client.get("/admin/").status_code == 302


def test_login_ignores_offsite_next(client, admin):
    response = client.post(
        "/login?next=https://evil.example/",
        data={"email": "alice@example.com", "password": "alice-password-1"},
    )
    assert response.headers["Location"] == "/admin/"


def test_moderators_land_on_the_queue_and_cannot_open_admin_pages(client, moderator):
    response = login(client, "bob@example.com", "bob-password-12")
    assert response.headers["Location"] == "/moderate/"
    assert client.get("/moderate/pending").status_code == 200
    for url in (
        "/admin/",
        "/admin/mailbox",
        "/admin/issues/",
        "/admin/settings/",
        "/admin/webhooks/",
        "/admin/newsletter/",
    ):
        assert client.get(url).status_code == 403, url


def test_deactivated_account_cannot_log_in(client, admin):
    from service.extensions import db

    admin.active = False
    db.session.commit()
    assert login(client, "alice@example.com", "alice-password-1").status_code == 401


@pytest.fixture
def app_config():
    return {"RATELIMIT_ENABLED": True}


def test_login_is_rate_limited(client, admin):
    codes = [login(client, "alice@example.com", f"guess-{n}").status_code for n in range(12)]
    assert codes[:10] == [401] * 10
    assert codes[-1] == 429


def test_passwords_are_stored_as_argon2(admin):
    assert admin.password_hash.startswith("$argon2id$")
