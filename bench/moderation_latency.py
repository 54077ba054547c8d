"""Post → automatic decision visible: latency on the embedded broker and on Redis, same run.

For each broker a real Celery worker starts; each round stores a comment exactly as the
comment form does (one row: pending, moderation_due, committed; no message) and polls the
database until the decision is written: the worker's moderation feed (a poll every 0.1 s) claims
it and enqueues `moderation.moderate_comment`, which a worker runs. Prints p50/p99 per broker and
the ratio to the issue's targets (1 s embedded, 250 ms Redis). Then it times the moderation
queue page at 100,000 comments (first page and a deep keyset page) against 1,000 comments.

    .venv/bin/python bench/moderation_latency.py [N]      (N posts per broker, default 60)
"""

from __future__ import annotations

import shutil
import socket
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service import create_app
from tests.support import processes

REDIS = "redis://127.0.0.1:6379/14"
TARGETS = {"embedded (sqla+sqlite)": 1000.0, "redis": 250.0}


def _decided(db_path: Path, comment_id: int) -> bool:
    with sqlite3.connect(db_path, timeout=15) as conn:
        row = conn.execute(
            "SELECT moderation_due FROM comments WHERE id = ?", (comment_id,)
        ).fetchone()
    return row is not None and not row[0]


def _post(issue_id: int, n: int) -> int:
    """Store a comment as the comment form does: one row, committed (the feed does the rest)."""
    from service.comments.avatars import avatar_key
    from service.core.rendering import comment_markdown_to_html
    from service.extensions import db
    from service.models import Comment

    body = f"Reader comment number {n}: a thought about the essay."
    comment = Comment(
        issue_id=issue_id,
        author_name=f"Reader {n}",
        author_email=f"reader{n}@example.net",
        avatar_key=avatar_key("x"),
        body_md=body,
        body_html=comment_markdown_to_html(body),
        status="pending",
        moderation_due=True,
        author_ip="192.0.2.1",
    )
    db.session.add(comment)
    db.session.commit()
    return comment.id


def measure(broker: str, n: int) -> list[float]:
    home = Path(tempfile.mkdtemp(prefix="margins-bench-"))
    db_path = home / "margins.sqlite"
    broker = broker.format(home=home)
    env = processes.process_env(home, f"sqlite:///{db_path}", broker)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}",
            "CELERY_BROKER_URL": broker,
            "MARGINS_HOME": str(home),
        }
    )
    with app.app_context():
        from flask_migrate import upgrade

        from service.cli.setup import declare_broker_queue
        from service.core import settings
        from service.extensions import db
        from service.publishing import scheduling, writing

        upgrade()
        declare_broker_queue()
        settings.put("moderation.notify", False)  # measure the decision, not email
        db.session.commit()
        issue = writing.create_draft("Latency", "Body", "Ann", "Essays")
        db.session.commit()
        scheduling.publish(issue.id)
        worker = processes.start_worker(env, home / "worker.log", concurrency=2)
        try:
            first = _post(issue.id, 0)
            processes.wait_for(lambda: _decided(db_path, first), 60, what="worker start")
            latencies = []
            for i in range(1, n + 1):
                start = time.perf_counter()
                comment_id = _post(issue.id, i)
                while not _decided(db_path, comment_id):
                    time.sleep(0.002)
                latencies.append((time.perf_counter() - start) * 1000)
                time.sleep(0.05 + (i % 7) * 0.013)  # arrivals not in step with the poll
            return latencies
        finally:
            processes.stop(worker)
            shutil.rmtree(home, ignore_errors=True)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def queue_page_timing() -> None:
    """Time the Pending tab (first page, and a page deep in the keyset) at 1,000 and 100,000."""
    from datetime import timedelta
    from urllib.parse import quote

    from service.extensions import db
    from service.models import Comment
    from service.models.base import utcnow

    results = {}
    for total in (1_000, 100_000):
        home = Path(tempfile.mkdtemp(prefix="margins-queue-"))
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{home}/m.sqlite",
                "CELERY_BROKER_URL": "memory://",
                "MARGINS_HOME": str(home),
                "WTF_CSRF_ENABLED": False,
                "RATELIMIT_ENABLED": False,
            }
        )
        with app.app_context():
            from flask_migrate import upgrade

            from service.publishing import writing
            from service.staff import accounts

            upgrade()
            issue = writing.create_draft("Busy", "Body", "Ann", "Essays")
            db.session.commit()
            now = utcnow()
            rows = [
                {
                    "issue_id": issue.id,
                    "author_name": f"R{i}",
                    "author_email": f"r{i % 5000}@example.net",
                    "body_md": f"comment {i}",
                    "body_html": f"<p>comment {i}</p>",
                    "status": ("pending", "approved", "spam")[i % 3],
                    "created_at": now - timedelta(seconds=i),
                }
                for i in range(total)
            ]
            db.session.execute(Comment.__table__.insert(), rows)
            db.session.commit()
            accounts.create_user("m@example.com", "moderator-pass-1", "moderator")
            client = app.test_client()
            client.post("/login", data={"email": "m@example.com", "password": "moderator-pass-1"})
            times = {}
            for label, url in (
                ("first page", "/moderate/pending"),
                (
                    "deep page",
                    "/moderate/pending?before="
                    + quote((now - timedelta(seconds=total - 60)).isoformat() + "~1"),
                ),
            ):
                assert client.get(url).status_code == 200
                client.get(url)
                started = time.perf_counter()
                for _ in range(10):
                    assert client.get(url).status_code == 200
                times[label] = (time.perf_counter() - started) * 100
            results[total] = times
        shutil.rmtree(home, ignore_errors=True)
    for label in ("first page", "deep page"):
        small, big = results[1_000][label], results[100_000][label]
        print(
            f"queue {label}: {small:.1f} ms at 1,000 comments, {big:.1f} ms at 100,000 "
            f"(ratio {big / small:.2f})"
        )


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    brokers = {"embedded (sqla+sqlite)": "sqla+sqlite:///{home}/broker.sqlite"}
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
        brokers["redis"] = REDIS
    except OSError:
        print("Redis is not running on 127.0.0.1:6379; measuring the embedded broker only")
    print(f"post → decision visible, {n} posts per broker, a real worker (threads, 2):")
    for name, url in brokers.items():
        lat = measure(url, n)
        p50, p99 = statistics.median(lat), _percentile(lat, 0.99)
        target = TARGETS[name]
        print(
            f"  {name:24} p50 {p50:7.1f} ms   p99 {p99:7.1f} ms   "
            f"target {target:.0f} ms: p99 is {p99 / target:.2f} of it"
        )
    queue_page_timing()


if __name__ == "__main__":
    main()
