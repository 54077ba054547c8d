"""The Celery side: a Celery app built from the Flask app; tasks run inside its app context."""

from __future__ import annotations

from celery import Celery, Task
from celery.signals import worker_process_init
from flask import Flask


def celery_init_app(app: Flask) -> Celery:
    """Create the Celery app for `app` (Flask's pattern) and store it in app.extensions."""

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    broker = app.config["CELERY_BROKER_URL"]
    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.conf.update(
        broker_url=broker,
        task_ignore_result=True,
        result_backend=None,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        task_default_queue="margins",
        timezone="UTC",
        beat_schedule_filename=f"{app.config['MARGINS_HOME']}/celerybeat-schedule",
        worker_hijack_root_logger=False,
        # a web request must not hang on a broker that is down: fail fast, the outbox
        # sweep enqueues again later
        broker_connection_timeout=2,
    )
    if broker.startswith(("redis://", "rediss://")):
        celery_app.conf.broker_transport_options = {
            "socket_connect_timeout": 1, "socket_timeout": 5, "retry_on_timeout": False,
            "max_retries": 0,
        }
    from .schedule import beat_schedule

    celery_app.conf.beat_schedule = beat_schedule(app)
    if broker.startswith("sqla+"):
        _tune_sqla_transport(app)
    from .feed import ModerationFeed

    celery_app.steps["worker"].add(ModerationFeed)
    celery_app.flask_app = app
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    from . import tasks  # noqa: F401  (registers the tasks)

    return celery_app


def _tune_sqla_transport(app: Flask) -> None:
    """Poll the SQLite broker every 0.1 s (the transport option would crash the worker)."""
    from kombu.transport import sqlalchemy as sqla

    sqla.Transport.polling_interval = app.config["BROKER_POLL_INTERVAL"]


@worker_process_init.connect
def _own_connections(**kwargs) -> None:
    """A forked pool process opens its own database connections (never its parent's, which
    the moderation feed thread is using)."""
    from celery import current_app

    from service.extensions import db

    flask_app = getattr(current_app, "flask_app", None)
    if flask_app is not None:
        with flask_app.app_context():
            db.engine.dispose(close=False)
