"""Settings from the environment: embedded defaults, production refuses weak setups."""

from __future__ import annotations

import pytest

from service import config, create_app


def test_embedded_defaults_live_under_margins_home(tmp_path, monkeypatch):
    monkeypatch.setenv("MARGINS_HOME", str(tmp_path))
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "SMTP_URL", "SECRET_KEY", "MARGINS_ENV"):
        monkeypatch.delenv(name, raising=False)
    settings = config.from_environment()
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/margins.sqlite"
    assert settings["CELERY_BROKER_URL"] == f"sqla+sqlite:///{tmp_path}/broker.sqlite"
    assert settings["MAILBOX_DIR"] == f"{tmp_path}/mailbox"
    assert settings["SMTP_URL"] == ""
    # the development secret is generated once and kept
    assert config.from_environment()["SECRET_KEY"] == settings["SECRET_KEY"]


@pytest.fixture
def production(tmp_path, monkeypatch):
    """A complete production environment; each test then removes or spoils one setting."""
    monkeypatch.setenv("MARGINS_HOME", str(tmp_path))
    monkeypatch.setenv("MARGINS_ENV", "production")
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/1")
    monkeypatch.setenv("SECRET_KEY", "x" * 48)
    monkeypatch.setenv("SITE_URL", "https://news.example.org")
    return monkeypatch


def test_production_refuses_to_start_without_a_real_secret(production):
    production.setenv("SECRET_KEY", "change-me")
    with pytest.raises(config.ConfigError, match="SECRET_KEY"):
        create_app()
    production.delenv("SECRET_KEY")
    with pytest.raises(config.ConfigError, match="SECRET_KEY"):
        create_app()


def test_production_refuses_to_start_without_site_url(production):
    production.delenv("SITE_URL")
    with pytest.raises(config.ConfigError, match="SITE_URL"):
        create_app()


def test_production_cookies_are_secure(production):
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_postgres_urls_use_psycopg3():
    assert config.database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert config.database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert config.database_url("sqlite:///x") == "sqlite:///x"


def test_bad_values_are_named_in_the_error(tmp_path, monkeypatch):
    monkeypatch.setenv("MARGINS_HOME", str(tmp_path))
    monkeypatch.setenv("TIMEZONE", "Mars/Olympus")
    with pytest.raises(config.ConfigError, match="TIMEZONE"):
        config.from_environment()
    monkeypatch.setenv("TIMEZONE", "UTC")
    monkeypatch.setenv("ISSUES_PER_PAGE", "many")
    with pytest.raises(config.ConfigError, match="ISSUES_PER_PAGE"):
        config.from_environment()


def test_secret_can_come_from_a_file(tmp_path, monkeypatch):
    monkeypatch.setenv("MARGINS_HOME", str(tmp_path))
    secret_file = tmp_path / "secret"
    secret_file.write_text("s" * 50 + "\n")
    monkeypatch.setenv("SECRET_KEY_FILE", str(secret_file))
    assert config.from_environment()["SECRET_KEY"] == "s" * 50


def test_production_refuses_per_process_rate_limits(production):
    production.delenv("RATELIMIT_STORAGE_URI")
    with pytest.raises(config.ConfigError, match="RATELIMIT_STORAGE_URI"):
        config.from_environment()
    production.setenv("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/1")
    assert config.from_environment()["REMEMBER_COOKIE_SAMESITE"] == "Lax"


def test_behind_a_trusted_proxy_the_client_address_is_the_forwarded_one(tmp_path, monkeypatch):
    from flask import request

    monkeypatch.setenv("MARGINS_HOME", str(tmp_path))
    seen = []
    for proxies in (0, 1):
        app = create_app({"TRUSTED_PROXIES": proxies, "CELERY_BROKER_URL": "memory://"})
        app.add_url_rule("/ip", "ip", lambda: seen.append(request.remote_addr) or "")
        app.test_client().get(
            "/ip",
            headers={"X-Forwarded-For": "198.51.100.7"},
            environ_base={"REMOTE_ADDR": "10.0.0.1"},
        )
    assert seen == ["10.0.0.1", "198.51.100.7"]


@pytest.mark.parametrize(
    "name, value, words",
    [
        ("SMTP_URL", "smtp+tls://mail.example.org:587", "scheme"),
        ("SMTP_URL", "smtp://user:hunter2@mail.example.org:port", "port"),
        ("NEWSLETTER_SMTP_URLS", "smtp://a.example.org, smtps//b.example.org", "scheme"),
        ("SENDRATE_URL", "http://cache.example.org", "redis://"),
    ],
)
def test_mail_and_send_rate_urls_are_checked_at_start_up(tmp_path, monkeypatch, name, value, words):
    monkeypatch.setenv("MARGINS_HOME", str(tmp_path))
    monkeypatch.setenv(name, value)
    with pytest.raises(config.ConfigError, match=name) as caught:
        config.from_environment()
    message = str(caught.value)
    assert words in message and "\n" not in message
    assert "hunter2" not in message  # a password in the URL is never repeated


def test_a_bad_mail_url_stops_the_command_with_one_clear_line(tmp_path):
    import subprocess
    import sys

    env = {
        "PATH": "/usr/bin:/bin",
        "MARGINS_HOME": str(tmp_path),
        "SMTP_URL": "smtp+tls://mail.example.org",
    }
    result = subprocess.run(
        [sys.executable, "-c", "from service.cli import main; main()", "setup"],
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    expected = (
        "Error: SMTP_URL is not a mail server URL (the scheme must be smtp, smtp+starttls or "
        "smtps, not 'smtp+tls'): 'smtp+tls://mail.example.org'; use smtp://host:25, "
        "smtp+starttls://user:pw@host:587 or smtps://user:pw@host:465"
    )
    assert result.stderr.strip().splitlines() == [expected]
    assert not (tmp_path / "margins.sqlite").exists()  # nothing was set up


def test_replies_by_email_settings_are_checked_at_start_up(tmp_path, monkeypatch):
    monkeypatch.setenv("MARGINS_HOME", str(tmp_path))
    monkeypatch.setenv("REPLY_DOMAIN", "Replies.Example.ORG")
    assert config.from_environment()["REPLY_DOMAIN"] == "replies.example.org"
    monkeypatch.setenv("REPLY_DOMAIN", "reply@example.org")
    with pytest.raises(config.ConfigError, match="^REPLY_DOMAIN must be a domain name"):
        config.from_environment()
    monkeypatch.setenv("REPLY_DOMAIN", "replies.example.org")
    monkeypatch.setenv("INBOUND_PROTOCOL", "pop3")
    with pytest.raises(config.ConfigError, match="^INBOUND_PROTOCOL must be lmtp or smtp"):
        config.from_environment()
    monkeypatch.setenv("INBOUND_PROTOCOL", "smtp")
    monkeypatch.setenv("INBOUND_PORT", "70000")
    with pytest.raises(config.ConfigError, match="^INBOUND_PORT must be a port number"):
        config.from_environment()
