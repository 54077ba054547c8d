"""Fixtures: an app per test on SQLite and on PostgreSQL, a client, a CLI runner, an SMTP sink."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest

from service import create_app
from service.extensions import db
from tests.support import servers
from tests.support.smtp import SMTPServer

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
SECRET = "test-secret-key-that-is-long-enough-for-production-0123456789"


def shared_file(relative: str) -> Path:
    """A file from ../shared; skip when absent (a user's clone), but not under CI."""
    path = SHARED / relative
    servers.require(path.exists(), f"../shared/{relative}")
    return path


def base_config(home: Path, db_url: str) -> dict:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": db_url,
        "CELERY_BROKER_URL": "memory://",
        "SECRET_KEY": SECRET,
        "SITE_URL": "http://margins.test",
        "SITE_NAME": "Margins Test",
        "MAILBOX_DIR": str(home / "mailbox"),
        "MARGINS_HOME": str(home),
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
    }


def migrate(app) -> None:
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite database, copied for each test (migrating once is much faster)."""
    home = tmp_path_factory.mktemp("sqlite-template")
    path = home / "margins.sqlite"
    migrate(create_app(base_config(home, f"sqlite:///{path}")))
    return path


@pytest.fixture(scope="session")
def pg_url(tmp_path_factory):
    """A fresh, migrated PostgreSQL database for this test session, dropped at the end."""
    servers.require(servers.reachable("127.0.0.1", 5432), "PostgreSQL on 127.0.0.1:5432")
    import psycopg

    name = f"margins_test_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(servers.PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = (
        servers.PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
        + f"/{name}"
    )
    migrate(create_app(base_config(tmp_path_factory.mktemp("pg"), url)))
    yield url
    with psycopg.connect(servers.PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _truncate_all() -> None:
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    db.session.execute(db.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.session.commit()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> str:
    """The database URL for one test: a copy of the SQLite template, or the PostgreSQL one."""
    if request.param == "sqlite":
        path = tmp_path / "margins.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def app_config() -> dict:
    """Override in a test module to change settings for its app."""
    return {}


@pytest.fixture
def app(db_url, tmp_path, monkeypatch, app_config):
    monkeypatch.setenv("MARGINS_HOME", str(tmp_path))
    app = create_app({**base_config(tmp_path, db_url), **app_config})
    with app.app_context():
        if db_url.startswith("postgresql"):
            _truncate_all()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


class MarginsRunner:
    """Invoke the `margins` command group against the test app."""

    def __init__(self, app):
        self.runner = app.test_cli_runner()

    def invoke(self, args, **kwargs):
        from service.cli import cli

        return self.runner.invoke(cli, args=args, **kwargs)


@pytest.fixture
def runner(app):
    return MarginsRunner(app)


@pytest.fixture
def smtp():
    """A real SMTP server on loopback; `smtp.sink.messages` holds what it received."""
    with SMTPServer(servers.free_port()) as server:
        yield server


@pytest.fixture
def admin(app):
    from service.staff import accounts

    user, _ = accounts.create_user("alice@example.com", "alice-password-1", "admin", "Alice")
    return user


@pytest.fixture
def moderator(app):
    from service.staff import accounts

    user, _ = accounts.create_user("bob@example.com", "bob-password-12", "moderator", "Bob")
    return user


def login(client, email: str, password: str):
    return client.post("/login", data={"email": email, "password": password})


@pytest.fixture
def admin_client(client, admin):
    login(client, "alice@example.com", "alice-password-1")
    return client


@pytest.fixture
def live_server(app):
    """The test app served on a free port, for browser tests; yields its base URL."""
    from tests.support import browser

    with browser.live_server(app) as base:
        yield base


@pytest.fixture
def page():
    """A headless Chromium page (skips outside CI when Chromium is missing)."""
    from tests.support import browser

    with browser.chromium() as new_page:
        yield new_page


@pytest.fixture
def run_worker(app, tmp_path, db_url):
    """Start real Celery workers on a file broker the test app also uses; stopped afterwards.

    Use with the SQLite database (a file shared with the worker process).
    """
    from tests.support import processes

    broker = f"sqla+sqlite:///{tmp_path}/broker.sqlite"
    app.extensions["celery"].conf.broker_url = broker
    started = []

    def start(**env: str):
        proc = processes.start_worker(
            processes.process_env(tmp_path, db_url, broker, **env),
            tmp_path / f"worker-{len(started)}.log",
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        processes.stop(proc)


@pytest.fixture
def transactions_at_send(monkeypatch) -> list[bool]:
    """For each mail connection opened, whether a database transaction was open (must be False)."""
    from service.mail import transport

    seen: list[bool] = []
    real = transport.open_url

    def recording(url: str):
        seen.append(db.session().in_transaction())
        return real(url)

    monkeypatch.setattr(transport, "open_url", recording)
    return seen
