"""Faults: comments are accepted while the broker is down and moderated once it is back; the
app survives its PostgreSQL connections being killed."""

from __future__ import annotations

import urllib.parse
import urllib.request
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import func, select

from service.comments import guards
from service.core import settings
from service.extensions import db
from service.models import Comment
from service.models.base import utcnow
from tests.factories import make_issue
from tests.support import processes, servers
from tests.support.browser import live_server

CLOSED_PORT = servers.free_port()  # nothing listens here: the broker is "down"


@pytest.fixture
def app_config():
    return {"CELERY_BROKER_URL": f"redis://127.0.0.1:{CLOSED_PORT}/0"}


def post(client, issue, n: int):
    return client.post(
        f"/issues/{issue.slug}/comments",
        data={
            "author": f"Reader {n}",
            "email": f"reader{n}@example.net",
            "comment": f"Comment {n}, posted while the broker is down.",
            "stamp": guards.form_stamp(issue.id, now=utcnow() - timedelta(seconds=30)),
        },
    )


def pending_due() -> int:
    db.session.rollback()
    return db.session.scalar(
        select(func.count()).select_from(Comment).where(Comment.moderation_due.is_(True))
    )


@pytest.mark.slow
def test_comments_posted_while_the_broker_is_down_are_kept_and_moderated_later(
    app, client, db_url, tmp_path
):
    settings.put("comments.flood_seconds", 0)
    settings.put("moderation.require_known", False)  # approve what no rule holds
    settings.put("moderation.notify", False)
    db.session.commit()
    issue = make_issue("Broker down")
    statuses = [post(client, issue, n).status_code for n in range(20)]
    assert statuses == [303] * 20  # every reader was answered "awaiting moderation"
    assert pending_due() == 20  # stored, with their moderation still owed
    # A worker whose broker is down: its feed claims, cannot enqueue, hands the claims back.
    env = processes.process_env(tmp_path, db_url, f"redis://127.0.0.1:{CLOSED_PORT}/0")
    down = processes.start_worker(env, tmp_path / "down.log")
    try:
        processes.wait_for(
            lambda: "released" in (tmp_path / "down.log").read_text(),
            timeout=60,
            what="the feed to find the broker down",
        )
    finally:
        processes.stop(down)
    assert pending_due() == 20
    # A worker whose broker is up: its feed finds every comment still owed moderation.
    env = processes.process_env(tmp_path, db_url, f"sqla+sqlite:///{tmp_path}/broker.sqlite")
    worker = processes.start_worker(env, tmp_path / "worker.log")
    try:
        processes.wait_for(
            lambda: pending_due() == 0,
            timeout=60,
            what="the worker to moderate the comments kept while it was down",
        )
    finally:
        processes.stop(worker)
    page = client.get(f"/issues/{issue.slug}").get_data(as_text=True)
    assert "20 responses to “Broker down”" in page


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # kills PostgreSQL backends
def test_app_recovers_when_its_postgresql_connections_are_killed(app, db_url):
    issue = make_issue("Survivor")
    with live_server(app) as base:
        url = f"{base}/issues/{issue.slug}"
        assert urllib.request.urlopen(url).status == 200  # the pool now holds a connection
        db.session.remove()
        name = db.engine.url.database
        with psycopg.connect(servers.PG_ADMIN_URL, autocommit=True) as admin:
            killed = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            ).fetchone()[0]
        assert killed >= 1
        assert urllib.request.urlopen(url).status == 200  # pre-ping replaced the dead one
        form = urllib.parse.urlencode(
            {
                "author": "After",
                "email": "after@example.net",
                "comment": "Still here.",
                "stamp": guards.form_stamp(issue.id, now=utcnow() - timedelta(seconds=30)),
            }
        )
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        answer = browser.open(f"{base}/issues/{issue.slug}/comments", form.encode())
        page = answer.read().decode()  # the redirect back to the issue, with the cookie
        assert "Still here." in page and "awaiting moderation" in page
