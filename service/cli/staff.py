"""Staff accounts from the command line."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from service.models import Role
from service.staff import accounts


@click.command("create-admin")
@click.option("--email", prompt=True)
@click.option("--password", default=None, help="generated and printed when omitted")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.ADMIN.value)
@with_appcontext
def create_admin(email: str, password: str | None, role: str) -> None:
    """Create a staff account."""
    try:
        user, password_used = accounts.create_user(email, password, role)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Created {role} {user.email}")
    if password is None:
        click.echo(f"password: {password_used}  (shown once)")
