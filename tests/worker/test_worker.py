"""A real Celery worker on the embedded broker runs tasks in the app context."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest

from service.extensions import db
from service.models import Issue
from service.models.base import utcnow
from service.publishing import scheduling
from tests.factories import make_issue
from tests.support import processes

# SQLite only: the database file is shared with another process or thread
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def worker(run_worker):
    return run_worker()


def _heartbeat_token(db_path: str) -> str | None:
    with sqlite3.connect(db_path) as conn:
        row = conn.execute("SELECT value FROM settings WHERE key='worker.heartbeat'").fetchone()
    return row[0] if row else None


@pytest.mark.slow
def test_task_round_trip_through_the_embedded_broker(app, worker, db_url):
    from service.core.queue import enqueue

    assert enqueue("maintenance.ping", "round-trip-42")
    path = db_url.removeprefix("sqlite:///")
    value = processes.wait_for(
        lambda: _heartbeat_token(path), timeout=60, what="the worker to run maintenance.ping"
    )
    assert "round-trip-42" in value


@pytest.mark.slow
def test_worker_publishes_a_scheduled_issue(app, worker):
    from service.core.queue import enqueue

    issue = make_issue("Scheduled for a worker", publish=False)
    scheduling.schedule(issue.id, utcnow() - timedelta(seconds=1))
    assert enqueue("publishing.publish_due")

    def published():
        db.session.expire_all()
        return db.session.get(Issue, issue.id).status == "published"

    processes.wait_for(published, timeout=60, what="the worker to publish the issue")
    assert db.session.get(Issue, issue.id).number == 1


#: The task names a queued message names. They are kept across refactors: a message enqueued
#: by the previous release must find its task after an upgrade.
TASK_NAMES = {
    "publishing.publish_due",
    "maintenance.prune_broker",
    "maintenance.ping",
    "moderation.moderate_comment",
    "moderation.notify_moderators",
    "comments.send_reply_optin",
    "comments.notify_replies",
    "comments.purge",
    "comments.erase_ips",
    "subscriptions.send_confirmation",
    "subscriptions.sweep",
    "delivery.drain",
    "delivery.sweep",
    "digests.plan",
    "bounces.process_maildir",
    "comments.sweep_reply_optins",
    "comments.retry_reply_notices",
    "comments.send_data_link",
    "comments.sweep_data_requests",
    "webhooks.deliver_due",
    "replies.send_mail",
    "replies.sweep_mail",
    "replies.process_maildir",
}


def test_every_task_keeps_its_name_and_the_schedule_names_only_real_tasks(app):
    import worker

    celery_app = worker.configure(app.extensions["celery"])
    registered = {name for name in celery_app.tasks if not name.startswith("celery.")}
    assert TASK_NAMES <= registered
    schedule = celery_app.conf.beat_schedule
    assert {entry["task"] for entry in schedule.values()} <= registered


@pytest.mark.slow
def test_a_message_enqueued_by_name_runs_after_the_move(app, worker, db_url):
    """What an old release queued (by name, with its arguments) still runs."""
    app.extensions["celery"].send_task("maintenance.ping", args=("queued-before-upgrade",))
    path = db_url.removeprefix("sqlite:///")
    value = processes.wait_for(lambda: _heartbeat_token(path), timeout=60, what="the ping task")
    assert "queued-before-upgrade" in value
