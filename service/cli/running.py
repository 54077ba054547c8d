"""Running Margins: everything at once (the embedded default), or web, worker and beat alone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from service.cli.setup import prepare


def gunicorn_argv(host: str, port: int, workers: int) -> list[str]:
    """The gunicorn command line serving the web app."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--access-logfile",
        "-",
        "--graceful-timeout",
        "5",
        "service.wsgi:app",
    ]


def celery_worker_argv(beat: bool, concurrency: int, pool: str | None) -> list[str]:
    """The Celery worker command line (with the embedded beat for `margins run`)."""
    cmd = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "worker.celery",
        "worker",
        "--loglevel",
        "INFO",
        "--concurrency",
        str(concurrency),
        "--without-gossip",
        "--without-mingle",
    ]
    if pool:
        cmd += ["--pool", pool]
    if beat:
        cmd += ["--beat", "--schedule", f"{current_app.config['MARGINS_HOME']}/celerybeat-schedule"]
    return cmd


@click.command("run")
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
        subprocess.Popen(gunicorn_argv(host, port, 2)),
        subprocess.Popen(celery_worker_argv(beat=True, concurrency=4, pool="threads")),
    ]
    _supervise(processes)


def _supervise(processes: list[subprocess.Popen[bytes]]) -> None:
    """Wait until one child exits or we are interrupted, then stop them all."""
    stopping = False

    def stop(signum: int, frame: Any) -> None:
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


@click.command("setup")
@with_appcontext
def setup_command() -> None:
    """Migrate the database, create the first admin and sample content if missing."""
    prepare()


@click.command("web")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=None, show_default="WEB_CONCURRENCY or 2", type=int)
@with_appcontext
def web_command(host: str, port: int, workers: int | None) -> None:
    """Serve the web app with gunicorn (run as many as you like)."""
    workers = workers or current_app.config["WEB_CONCURRENCY"]
    os.execv(sys.executable, gunicorn_argv(host, port, workers))


@click.command("worker")
@click.option("--concurrency", "-c", default=2, show_default=True, type=int)
@click.option("--pool", default=None, help="prefork (default), threads or solo")
@with_appcontext
def worker_command(concurrency: int, pool: str | None) -> None:
    """Run a Celery worker (run as many as you like, on any host)."""
    os.execv(sys.executable, celery_worker_argv(False, concurrency, pool))


@click.command("beat")
@with_appcontext
def beat_command() -> None:
    """Run Celery beat, the scheduler (one per deployment)."""
    home = current_app.config["MARGINS_HOME"]
    os.execv(
        sys.executable,
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "worker.celery",
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            f"{home}/celerybeat-schedule",
        ],
    )
