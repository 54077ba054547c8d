"""The `margins` command: run everything, or each part alone, plus admin commands."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import click
from dotenv import load_dotenv
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from . import accounts, create_app, sample
from .config import ConfigError
from .urls import absolute


def _create_app():
    try:
        return create_app()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False,
             add_default_commands=False, load_dotenv=False)
def cli():
    """Margins: newsletter and comment moderation."""


def main() -> None:
    load_dotenv()
    cli.main(prog_name="margins")


def prepare() -> None:
    """Migrate, create the first admin (printing its password once), load sample content."""
    from flask_migrate import upgrade

    upgrade()
    if not accounts.has_admin():
        email = os.environ.get("MARGINS_ADMIN_EMAIL") or f"admin@{_domain()}"
        user, password = accounts.create_user(email, role="admin", name="Admin")
        click.secho("First admin account created — this password is shown only once:", bold=True)
        click.echo(f"  email:    {user.email}\n  password: {password}")
        click.echo(f"  log in at {absolute('auth.login_page')}")
    if sample.load():
        click.echo("Loaded two sample issues.")
    declare_broker_queue()


def _domain() -> str:
    from .mail import site_domain

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


def web_command(host: str, port: int, workers: int) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}", "--workers",
            str(workers), "--access-logfile", "-", "--graceful-timeout", "5",
            "service.wsgi:app"]


def worker_command(beat: bool, concurrency: int, pool: str | None) -> list[str]:
    cmd = [sys.executable, "-m", "celery", "-A", "worker.celery", "worker", "--loglevel",
           "INFO", "--concurrency", str(concurrency), "--without-gossip", "--without-mingle"]
    if pool:
        cmd += ["--pool", pool]
    if beat:
        cmd += ["--beat", "--schedule", f"{current_app.config['MARGINS_HOME']}/celerybeat-schedule"]
    return cmd


@cli.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def run_command(host: str, port: int) -> None:
    """Set up and start web + worker + beat together (the embedded default)."""
    if not os.environ.get("SITE_URL"):
        os.environ["SITE_URL"] = current_app.config["SITE_URL"] = f"http://{host}:{port}"
    prepare()
    home = current_app.config["MARGINS_HOME"]
    click.echo(f"Margins at http://{host}:{port}  (data in {home}; Ctrl-C stops everything)")
    processes = [
        subprocess.Popen(web_command(host, port, 2)),
        subprocess.Popen(worker_command(beat=True, concurrency=4, pool="threads")),
    ]
    _supervise(processes)


def _supervise(processes: list[subprocess.Popen]) -> None:
    """Wait until one child exits or we are interrupted, then stop them all."""
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping and all(p.poll() is None for p in processes):
        time.sleep(0.2)
    for p in processes:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for p in processes:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
    click.echo("Margins stopped.")


@cli.command("setup")
@with_appcontext
def setup_command() -> None:
    """Migrate the database, create the first admin and sample content if missing."""
    prepare()


@cli.command("web")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=lambda: int(os.environ.get("WEB_CONCURRENCY", "2")),
              show_default="WEB_CONCURRENCY or 2", type=int)
def web_cmd(host: str, port: int, workers: int) -> None:
    """Serve the web app with gunicorn (run as many as you like)."""
    os.execv(sys.executable, web_command(host, port, workers))


@cli.command("worker")
@click.option("--concurrency", "-c", default=2, show_default=True, type=int)
@click.option("--pool", default=None, help="prefork (default), threads or solo")
@with_appcontext
def worker_cmd(concurrency: int, pool: str | None) -> None:
    """Run a Celery worker (run as many as you like, on any host)."""
    os.execv(sys.executable, worker_command(False, concurrency, pool))


@cli.command("beat")
@with_appcontext
def beat_cmd() -> None:
    """Run Celery beat, the scheduler (one per deployment)."""
    home = current_app.config["MARGINS_HOME"]
    os.execv(sys.executable, [sys.executable, "-m", "celery", "-A", "worker.celery", "beat",
                              "--loglevel", "INFO", "--schedule", f"{home}/celerybeat-schedule"])


@cli.command("create-admin")
@click.option("--email", prompt=True)
@click.option("--password", default=None, help="generated and printed when omitted")
@click.option("--role", type=click.Choice(["admin", "moderator"]), default="admin")
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


@cli.command("import-wxr")
@click.argument("path", type=click.Path(dir_okay=False))
@with_appcontext
def import_wxr(path: str) -> None:
    """Import a WordPress export (WXR): posts, approved comments and pingbacks."""
    from .importers import wxr

    def progress(items):
        with click.progressbar(items, label="Importing", show_pos=True,
                               file=sys.stderr) as bar:
            yield from bar

    try:
        report = wxr.import_file(path, progress=progress)
    except wxr.ImportError_ as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(report.summary())


def _register_db_commands() -> None:
    from flask_migrate.cli import db

    cli.add_command(db)


_register_db_commands()


def _drain_with_bar(send_id: int, label: str) -> dict:
    """Send a send's queued rows from this process, with a progress bar; return the counts."""
    from . import delivery

    counts = delivery.progress(send_id)
    with click.progressbar(length=counts["total"], label=label, show_pos=True,
                           file=sys.stderr) as bar:
        bar.update(counts["done"])
        shown = counts["done"]

        def advance(_claimed: int) -> None:
            nonlocal shown
            done = delivery.progress(send_id)["done"]
            bar.update(done - shown)
            shown = done

        delivery.drain(send_id, progress=advance)
    return delivery.progress(send_id)


@cli.command("send-issue")
@click.argument("number", type=int)
@click.option("--resume", is_flag=True, help="resume the send if it was paused")
@with_appcontext
def send_issue(number: int, resume: bool) -> None:
    """Email published issue NUMBER to its subscribers (planning it if needed)."""
    from sqlalchemy import select

    from . import delivery
    from .extensions import db
    from .models import Issue, Send

    issue = db.session.scalar(select(Issue).where(Issue.number == number))
    if issue is None or issue.status != "published":
        raise click.ClickException(f"There is no published issue #{number}.")
    if delivery.plan_issue(issue) is not None:
        db.session.commit()
    send = db.session.scalar(select(Send).where(Send.kind == "issue", Send.key == str(issue.id)))
    if send.status == "paused":
        if not resume:
            raise click.ClickException("This send is paused; add --resume to continue it.")
        delivery.resume(send.id, "cli")
    counts = _drain_with_bar(send.id, f"Issue #{number}")
    click.echo(f"sent {counts['sent']}, failed {counts['failed']}, "
               f"waiting to retry {counts['queued'] + counts['sending']} of {counts['total']}")


@cli.command("send-digest")
@with_appcontext
def send_digest() -> None:
    """Plan the digests due now and send them from this process, with progress bars."""
    from sqlalchemy import select

    from . import digests
    from .extensions import db
    from .models import Send

    digests.plan()
    sends = db.session.execute(select(Send.id, Send.key).where(
        Send.kind == "digest", Send.status == "running")).all()
    if not sends:
        click.echo("No digest is due, or nobody has anything new.")
    for send_id, key in sends:
        counts = _drain_with_bar(send_id, f"Digest {key}")
        click.echo(f"{key}: sent {counts['sent']}, failed {counts['failed']} of {counts['total']}")


@cli.command("process-bounces")
@click.argument("maildir", type=click.Path(file_okay=False))
@with_appcontext
def process_bounces(maildir: str) -> None:
    """Read bounce and complaint messages from a Maildir, mark subscribers, remove them."""
    from . import bounces

    counts = bounces.process_maildir(maildir)
    click.echo(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "no messages")


@cli.command("train-classifier")
@with_appcontext
def train_classifier() -> None:
    """Teach the spam classifier every approved and spam comment it has not learned yet."""
    from .classifier import stats, train_from_history

    spam, ham = train_from_history()
    total_spam, total_ham = stats()
    click.echo(f"Learned {spam} spam and {ham} approved comments "
               f"(now {total_spam} spam, {total_ham} ham in all).")
