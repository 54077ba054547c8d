"""The Celery side: thin tasks, the beat schedule and the moderation feed, added to the Celery
app that service.extensions binds to the Flask app. The worker imports the service; the service
never imports the worker (it enqueues tasks by name)."""

from __future__ import annotations

from typing import Any

from celery import Celery, current_app
from celery.signals import worker_process_init

from service.extensions import db
from worker.feed import ModerationFeed
from worker.schedule import beat_schedule


def configure(celery_app: Celery) -> Celery:
    """Register the tasks, the beat schedule and the moderation feed on `celery_app`."""
    # here, not at the top: worker.tasks imports every capability, which only a worker needs
    from worker import tasks  # noqa: F401  (the @shared_task definitions register on import)

    celery_app.conf.beat_schedule = beat_schedule()
    celery_app.steps["worker"].add(ModerationFeed)
    worker_process_init.connect(_own_connections, weak=False)
    return celery_app


def _own_connections(**kwargs: Any) -> None:
    """A forked pool process opens its own database connections (never its parent's, which
    the moderation feed thread is using)."""
    flask_app = getattr(current_app, "flask_app", None)
    if flask_app is not None:
        with flask_app.app_context():
            db.engine.dispose(close=False)
