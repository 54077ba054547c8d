"""The `margins` command: run everything, or each part alone, plus the operators' commands.

Only Margins' own commands are listed: Flask's --app/--env-file/--debug options and the
commands extensions add to `flask` (Flask-Limiter's `limiter`) are left out.
"""

from __future__ import annotations

from typing import Any

import click
from dotenv import load_dotenv
from flask import Flask
from flask.cli import FlaskGroup
from flask_migrate.cli import db as db_group

from service import create_app
from service.cli import content, inbound, newsletter, running, staff
from service.config import ConfigError

_FLASK_OPTIONS = {"app", "env_file", "debug"}


def _create_app() -> Flask:
    try:
        return create_app()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


class MarginsGroup(FlaskGroup):
    """FlaskGroup (an app context for every command) without Flask's own options and plugins."""

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.params = [p for p in self.params if p.name not in _FLASK_OPTIONS]

    def list_commands(self, ctx: click.Context) -> list[str]:
        return click.Group.list_commands(self, ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return click.Group.get_command(self, ctx, name)


@click.group(
    cls=MarginsGroup,
    create_app=_create_app,
    add_version_option=False,
    add_default_commands=False,
    load_dotenv=False,
)
def cli() -> None:
    """Margins: newsletter and comment moderation."""


for command in (
    running.run_command,
    running.setup_command,
    running.web_command,
    running.worker_command,
    running.beat_command,
    staff.create_admin,
    content.import_wxr,
    content.train_classifier,
    newsletter.send_issue,
    newsletter.send_digest,
    newsletter.process_bounces,
    inbound.inbound_command,
    inbound.process_replies,
    db_group,
):
    cli.add_command(command)


def main() -> None:
    load_dotenv()
    cli.main(prog_name="margins")
