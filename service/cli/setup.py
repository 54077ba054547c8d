"""First-run set-up: migrate, create the first admin (password printed once), sample content."""

from __future__ import annotations

import click
from flask import current_app
from flask_migrate import upgrade

from service.core.urls import absolute
from service.mail.headers import site_domain
from service.models import Role
from service.staff import accounts, sample


def prepare() -> None:
    """Migrate, create the first admin (printing its password once), load sample content."""
    upgrade()
    if not accounts.has_admin():
        email = current_app.config.get("MARGINS_ADMIN_EMAIL") or f"admin@{_domain()}"
        user, password = accounts.create_user(email, role=Role.ADMIN, name="Admin")
        click.secho("First admin account created — this password is shown only once:", bold=True)
        click.echo(f"  email:    {user.email}\n  password: {password}")
        click.echo(f"  log in at {absolute('auth.login_page')}")
    if sample.load():
        click.echo("Loaded two sample issues.")
    declare_broker_queue()


def _domain() -> str:
    domain = site_domain()
    try:
        accounts.normalize_email(f"admin@{domain}")
    except accounts.AccountError:  # localhost, an IP address, a reserved name
        return "example.com"
    return domain


def declare_broker_queue() -> None:
    """Declare the task queue once, before several processes publish to a fresh broker."""
    celery_app = current_app.extensions["celery"]
    with celery_app.connection_for_write() as conn:
        conn.default_channel.queue_declare(celery_app.conf.task_default_queue, durable=True)
