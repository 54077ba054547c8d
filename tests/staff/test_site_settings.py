"""The admin settings page: site identity, timezone, author bios, comment and digest settings."""

from __future__ import annotations

from service.core import recent, settings
from service.extensions import db
from service.models import Event
from tests.conftest import login
from tests.factories import make_issue


def _form(**overrides):
    form = {
        "site.name": "The Margin Notes",
        "site.description": "Slow essays",
        "site.timezone": "America/New_York",
        "comments.close_after_days": "30",
        "comments.max_depth": "4",
        "newsletter.digest_weekday": "4",
        "newsletter.digest_hour": "7",
        "comments.purge_after_days": "30",
        "comments.ip_retention_days": "30",
        "comments.flood_seconds": "15",
        "comments.min_seconds": "3",
        "comments.max_links": "10",
        "comments.reply_notices_per_hour": "3",
    }
    form.update(overrides)
    return form


def test_settings_change_what_readers_see(admin_client, client):
    issue = make_issue("Timed")
    author_id = issue.author.id
    response = admin_client.post("/admin/settings/", data={**_form(), f"bio-{author_id}": "coach"})
    assert response.status_code == 302
    page = client.get(f"/issues/{issue.slug}").get_data(as_text=True)
    assert "The Margin Notes" in page and "Slow essays" in page
    assert "Ann Author: coach" in page
    assert "<title>The Margin Notes</title>" in client.get("/feed.atom").get_data(as_text=True)
    assert settings.get("comments.close_after_days") == 30
    assert settings.get("newsletter.digest_weekday") == 4
    event = db.session.query(Event).filter_by(action="settings.changed").one()
    assert "site.timezone" in event.detail


def test_timezone_setting_changes_displayed_dates(admin_client, client):
    from datetime import UTC, datetime

    issue = make_issue("Midnight")
    issue.published_at = datetime(2024, 3, 1, 2, 30, tzinfo=UTC)
    db.session.commit()
    assert "March 1, 2024" in client.get(f"/issues/{issue.slug}").get_data(as_text=True)
    admin_client.post("/admin/settings/", data=_form())
    assert "February 29, 2024" in client.get(f"/issues/{issue.slug}").get_data(as_text=True)


def test_bad_values_are_refused_and_shown_back(admin_client):
    response = admin_client.post(
        "/admin/settings/",
        data=_form(
            **{
                "site.name": "",
                "site.timezone": "Mars/Base",
                "newsletter.digest_hour": "25",
                "site.description": "Keep me",
            }
        ),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "1 to 200 printable characters" in page and "Mars/Base" in page
    assert "from 0 to 23" in page and "Keep me" in page
    assert settings.get("site.name") is None


def test_settings_are_admin_only(client, moderator):
    assert client.get("/admin/settings/").status_code == 302
    login(client, "bob@example.com", "bob-password-12")
    assert client.get("/admin/settings/").status_code == 403
    assert client.post("/admin/settings/", data=_form()).status_code == 403


def test_comment_limits_and_retention_are_set_on_the_settings_page(admin_client):
    page = admin_client.get("/admin/settings/").get_data(as_text=True)
    for key in (
        "comments.purge_after_days",
        "comments.ip_retention_days",
        "comments.flood_seconds",
        "comments.min_seconds",
        "comments.max_links",
        "comments.reply_notices_per_hour",
    ):
        assert f'name="{key}"' in page
    changed = {
        "comments.purge_after_days": "90",
        "comments.ip_retention_days": "7",
        "comments.flood_seconds": "0",
        "comments.min_seconds": "5",
        "comments.max_links": "3",
        "comments.reply_notices_per_hour": "10",
    }
    assert admin_client.post("/admin/settings/", data=_form(**changed)).status_code == 302
    assert {key: settings.get(key) for key in changed} == {k: int(v) for k, v in changed.items()}
    assert 'name="comments.max_links" min="0" max="100" value="3"' in admin_client.get(
        "/admin/settings/"
    ).get_data(as_text=True)
    bad = admin_client.post(
        "/admin/settings/",
        data=_form(**{"comments.purge_after_days": "0", "comments.reply_notices_per_hour": "500"}),
    )
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "Delete spam and trash after (days): a whole number from 1 to 3650." in text
    assert "from 1 to 60" in text
    assert settings.get("comments.purge_after_days") == 90


def test_hot_paths_see_a_change_from_another_process_within_two_seconds(app, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(recent.time, "monotonic", lambda: clock[0])
    assert settings.get("comments.max_links") == 10  # the default, now in this app's copy
    # another process (here: plain SQL) saves a new value
    db.session.execute(
        db.text("INSERT INTO settings (key, value) VALUES ('comments.max_links', '7')")
    )
    db.session.commit()
    assert settings.get("comments.max_links") == 10  # the copy may be up to 2 s old …
    clock[0] += recent.MAX_AGE + 0.1
    assert settings.get("comments.max_links") == 7  # … and no older
    settings.put("comments.max_links", 4)  # a change saved by this process: seen at once
    db.session.commit()
    assert settings.get("comments.max_links") == 4


def test_a_transaction_that_changed_a_setting_reads_its_own_value_and_a_rollback_forgets_it(app):
    assert settings.get("comments.max_links") == 10
    settings.put("comments.max_links", 3)
    assert settings.get("comments.max_links") == 3  # its own, uncommitted view
    db.session.rollback()
    assert settings.get("comments.max_links") == 10  # nothing of it stays in the copy
