"""A real Celery worker on the embedded broker runs tasks in the app context."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest

from service import publishing
from service.extensions import db
from service.models import Issue
from service.models.base import utcnow
from tests.factories import make_issue
from tests.support import processes


@pytest.fixture
def db_url(tmp_path, sqlite_template):
    """These tests share one SQLite file with a worker process."""
    import shutil

    path = tmp_path / "margins.sqlite"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def worker(app, tmp_path, db_url):
    broker = f"sqla+sqlite:///{tmp_path}/broker.sqlite"
    app.extensions["celery"].conf.broker_url = broker
    env = processes.process_env(tmp_path, db_url, broker)
    proc = processes.start_worker(env, tmp_path / "worker.log")
    yield proc
    processes.stop(proc)


def _heartbeat_token(db_path: str) -> str | None:
    with sqlite3.connect(db_path) as conn:
        row = conn.execute("SELECT value FROM settings WHERE key='worker.heartbeat'").fetchone()
    return row[0] if row else None


@pytest.mark.slow
def test_task_round_trip_through_the_embedded_broker(app, worker, db_url):
    from service.queue import enqueue

    assert enqueue("maintenance.ping", "round-trip-42")
    path = db_url.removeprefix("sqlite:///")
    value = processes.wait_for(lambda: _heartbeat_token(path), timeout=60,
                               what="the worker to run maintenance.ping")
    assert "round-trip-42" in value


@pytest.mark.slow
def test_worker_publishes_a_scheduled_issue(app, worker):
    from service.queue import enqueue

    issue = make_issue("Scheduled for a worker", publish=False)
    publishing.schedule(issue.id, utcnow() - timedelta(seconds=1))
    assert enqueue("publishing.publish_due")

    def published():
        db.session.expire_all()
        return db.session.get(Issue, issue.id).status == "published"

    processes.wait_for(published, timeout=60, what="the worker to publish the issue")
    assert db.session.get(Issue, issue.id).number == 1
