"""Fan-out: one issue to N confirmed subscribers through real workers and a real SMTP sink.

Prints messages per second and the ratio to the raw limit measured in the same run: one
process sending one pre-rendered message over one persistent smtplib connection to the same
sink (a discarding aiosmtpd server in its own process on loopback). Also prints each worker's
peak RSS (VmHWM).

Usage: .venv/bin/python bench/fanout.py [N] [--workers 2] [--db sqlite|postgresql]
       [--broker embedded|redis]        (N: 1000, 10000, 100000; default 1000)
"""

from __future__ import annotations

import argparse
import multiprocessing
import shutil
import smtplib
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service import create_app
from tests.support import processes, servers


def run_sink(port: int, ready) -> None:
    """A discarding SMTP server (its own process)."""
    from aiosmtpd.controller import Controller

    class Discard:
        async def handle_DATA(self, server, session, envelope):
            return "250 OK"

    controller = Controller(Discard(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    while True:
        time.sleep(3600)


def raw_limit(port: int, count: int, data: bytes) -> float:
    """Messages/s for one pre-rendered message over one persistent smtplib connection."""
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        start = time.perf_counter()
        for _ in range(count):
            smtp.sendmail("bounces@example.com", ["reader@example.com"], data)
        return count / (time.perf_counter() - start)


def sample_message(issue_id: int) -> bytes:
    """One real newsletter message for this issue, rendered once."""
    from service.extensions import db
    from service.newsletter.composing import IssueComposer
    from service.newsletter.ledger import Row

    composer = IssueComposer(issue_id)
    db.session.rollback()
    msg, _ = composer(Row(0, "issue", str(issue_id), 0, 1, "reader@example.com", "Reader", ""))
    return msg.data


def database(kind: str, home: Path) -> tuple[str, object]:
    if kind == "sqlite":
        return f"sqlite:///{home / 'margins.sqlite'}", None
    import psycopg

    name = f"margins_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(servers.PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = servers.PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")

    def drop():
        with psycopg.connect(servers.PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"{url}/{name}", drop


def prepare(app, n: int) -> int:
    """Migrate, add N active subscribers and a draft issue; return the issue id."""
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from service.cli.setup import declare_broker_queue
    from service.extensions import db
    from service.models import Subscriber
    from service.models.base import utcnow
    from service.publishing import writing

    upgrade()
    declare_broker_queue()
    now = utcnow()
    for start in range(0, n, 5000):
        db.session.execute(
            insert(Subscriber),
            [
                {
                    "email": f"reader{i:06d}@example.com",
                    "name": f"Reader {i}",
                    "status": "active",
                    "delivery": "issue",
                    "confirmed_at": now,
                    "created_at": now,
                }
                for i in range(start, min(n, start + 5000))
            ],
        )
    body = "\n\n".join(["A paragraph of an essay, long enough to look like one. " * 8] * 6)
    issue = writing.create_draft("Fan-out", body, "Bench Author")
    db.session.commit()
    return issue.id


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def fanout(args) -> None:
    home = Path(tempfile.mkdtemp(prefix="margins-fanout-"))
    port = servers.free_port()
    ready = multiprocessing.Event()
    sink = multiprocessing.Process(target=run_sink, args=(port, ready), daemon=True)
    sink.start()
    ready.wait(10)
    db_url, drop = database(args.db, home)
    broker = (
        servers.REDIS_URL if args.broker == "redis" else f"sqla+sqlite:///{home / 'broker.sqlite'}"
    )
    smtp_url = f"smtp://127.0.0.1:{port}"
    config = {
        "SQLALCHEMY_DATABASE_URI": db_url,
        "CELERY_BROKER_URL": broker,
        "MARGINS_HOME": str(home),
        "SMTP_URL": smtp_url,
        "SITE_URL": "http://margins.test",
    }
    env = processes.process_env(home, db_url, broker, SMTP_URL=smtp_url)
    workers = []
    try:
        app = create_app(config)
        with app.app_context():
            from sqlalchemy import select

            from service.core import settings
            from service.extensions import db
            from service.models import Send
            from service.newsletter import ledger
            from service.publishing import scheduling

            issue_id = prepare(app, args.n)
            raw = raw_limit(port, min(max(args.n, 1000), 3000), sample_message(issue_id))
            settings.put("newsletter.parallel_tasks", args.workers)
            db.session.commit()
            for i in range(args.workers):
                workers.append(
                    processes.start_worker(env, home / f"worker{i}.log", concurrency=1, pool="solo")
                )
            for i in range(args.workers):
                processes.wait_for(
                    lambda i=i: "ready" in (home / f"worker{i}.log").read_text(),
                    60,
                    what="worker start",
                )
            start = time.perf_counter()
            scheduling.publish(issue_id)
            send_id = 1

            def done() -> bool:
                # A primary-key read, not progress(): counting 100,000 rows (and their dead
                # versions) every 50 ms took half a core from the workers on a 2-core machine.
                db.session.commit()
                status = db.session.scalar(select(Send.status).where(Send.id == send_id))
                if status == "paused":
                    raise RuntimeError(f"the send paused itself: {ledger.progress(send_id)}")
                return status == "finished"

            processes.wait_for(done, timeout=3600, interval=0.05, what="the fan-out")
            elapsed = time.perf_counter() - start
            counts = ledger.progress(send_id)
        rss = [peak_rss_mb(w.pid) for w in workers]
        rate = args.n / elapsed
        print(f"fanout N={args.n} db={args.db} broker={args.broker} workers={args.workers}")
        print(f"  sent {counts['sent']}, failed {counts['failed']} in {elapsed:.1f} s")
        print(f"  fan-out: {rate:,.0f} messages/s")
        print(f"  raw limit (one smtplib connection, pre-rendered): {raw:,.0f} messages/s")
        print(f"  ratio: {rate / raw:.2f}")
        print("  worker peak RSS: " + ", ".join(f"{r:.0f} MB" for r in rss))
    finally:
        for w in workers:
            processes.stop(w)
        sink.terminate()
        if drop:
            drop()
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--broker", choices=["embedded", "redis"], default="embedded")
    fanout(parser.parse_args())


if __name__ == "__main__":
    main()
