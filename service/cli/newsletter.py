"""Newsletter commands: send an issue or the due digests from this process, read bounces."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from service.extensions import db
from service.models import Issue, IssueStatus, Send, SendKind, SendStatus
from service.newsletter import bounces, digests, ledger, planning, sending, sweeps


def _drain_with_bar(send_id: int, label: str) -> dict[str, int]:
    """Send a send's queued rows from this process, with a progress bar; return the counts."""
    counts = ledger.progress(send_id)
    with click.progressbar(
        length=counts["total"], label=label, show_pos=True, file=sys.stderr
    ) as bar:
        bar.update(counts["done"])
        shown = counts["done"]

        def advance(_claimed: int) -> None:
            nonlocal shown
            done = ledger.progress(send_id)["done"]
            bar.update(done - shown)
            shown = done

        sending.drain(send_id, progress=advance)
    return ledger.progress(send_id)


@click.command("send-issue")
@click.argument("number", type=int)
@click.option("--resume", is_flag=True, help="resume the send if it was paused")
@with_appcontext
def send_issue(number: int, resume: bool) -> None:
    """Email published issue NUMBER to its subscribers (planning it if needed)."""
    issue = db.session.scalar(select(Issue).where(Issue.number == number))
    if issue is None or issue.status != IssueStatus.PUBLISHED:
        raise click.ClickException(f"There is no published issue #{number}.")
    if planning.plan_issue(issue) is not None:
        db.session.commit()
    send = db.session.scalar(
        select(Send).where(Send.kind == SendKind.ISSUE, Send.key == str(issue.id))
    )
    if send is None:  # plan_issue made one, or one existed: only a concurrent delete leaves none
        raise click.ClickException(f"Issue #{number} has no send.")
    if send.status == SendStatus.PAUSED:
        if not resume:
            raise click.ClickException("This send is paused; add --resume to continue it.")
        sweeps.resume(send.id, "cli")
    counts = _drain_with_bar(send.id, f"Issue #{number}")
    click.echo(
        f"sent {counts['sent']}, failed {counts['failed']}, "
        f"waiting to retry {counts['queued'] + counts['sending']} of {counts['total']}"
    )


@click.command("send-digest")
@with_appcontext
def send_digest() -> None:
    """Plan the digests due now and send them from this process, with progress bars."""
    digests.plan()
    sends = db.session.execute(
        select(Send.id, Send.key).where(
            Send.kind == SendKind.DIGEST, Send.status == SendStatus.RUNNING
        )
    ).all()
    if not sends:
        click.echo("No digest is due, or nobody has anything new.")
    for send_id, key in sends:
        counts = _drain_with_bar(send_id, f"Digest {key}")
        click.echo(f"{key}: sent {counts['sent']}, failed {counts['failed']} of {counts['total']}")


@click.command("process-bounces")
@click.argument("maildir", type=click.Path(file_okay=False))
@with_appcontext
def process_bounces(maildir: str) -> None:
    """Read bounce and complaint messages from a Maildir, mark subscribers, remove them."""
    counts = bounces.process_maildir(maildir)
    click.echo(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "no messages")
