"""Content commands: import a WordPress export, train the spam classifier."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import Any

import click
from flask.cli import with_appcontext

from service.importers import wxr
from service.moderation import classifier


@click.command("import-wxr")
@click.argument("path", type=click.Path(dir_okay=False))
@with_appcontext
def import_wxr(path: str) -> None:
    """Import a WordPress export (WXR): posts, approved comments and pingbacks."""

    def progress(items: Iterable[Any]) -> Iterator[Any]:
        with click.progressbar(items, label="Importing", show_pos=True, file=sys.stderr) as bar:
            yield from bar

    try:
        report = wxr.import_file(path, progress=progress)
    except wxr.WXRFileError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(report.summary())


@click.command("train-classifier")
@with_appcontext
def train_classifier() -> None:
    """Teach the spam classifier every approved and spam comment it has not learned yet."""
    spam, ham = classifier.train_from_history()
    total_spam, total_ham = classifier.stats()
    click.echo(
        f"Learned {spam} spam and {ham} approved comments "
        f"(now {total_spam} spam, {total_ham} ham in all)."
    )
