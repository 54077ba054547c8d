"""Extensions, created here and bound to the app in create_app(): the database, migrations,
CSRF, logins, rate limits, and the Celery binding (Flask's pattern: tasks run in the app context).

The web side only enqueues tasks by name (core/queue.py); the worker package adds the tasks,
the beat schedule and the moderation feed to this same Celery app (worker/__init__.py).
"""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import event
from sqlalchemy.engine import Engine

from service.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
login = LoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """WAL and a busy timeout on every SQLite connection (app, broker, tests)."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def init_sqlite() -> None:
    """Set the SQLite pragmas on every new connection of any engine in this process."""
    if not event.contains(Engine, "connect", _sqlite_pragmas):
        event.listen(Engine, "connect", _sqlite_pragmas)


def engine_options(uri: str) -> dict[str, Any]:
    if uri.startswith("sqlite"):
        return {"connect_args": {"timeout": 15}}
    return {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 10}


def celery_init_app(app: Flask) -> Celery:
    """Create the Celery app for `app` and store it in app.extensions["celery"]."""

    class FlaskTask(Task):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
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
            "socket_connect_timeout": 1,
            "socket_timeout": 5,
            "retry_on_timeout": False,
            "max_retries": 0,
        }
    if broker.startswith("sqla+"):
        # Poll the SQLite broker every 0.1 s: the transport option would crash the worker, as
        # this transport passes all transport options to create_engine().
        from kombu.transport import sqlalchemy as sqla  # only the embedded broker needs it

        sqla.Transport.polling_interval = app.config["BROKER_POLL_INTERVAL"]
    celery_app.flask_app = app
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app
