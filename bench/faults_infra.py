"""Infrastructure faults: the broker (Redis) down while comments are posted; PostgreSQL restarted
under load.

(a) gunicorn (2 workers, `service.wsgi:app`) on a throwaway PostgreSQL database, Redis db 13 as the
    broker, and a real Celery worker with beat (`--beat`, as `margins run` starts it). Redis is
    stopped (`redis-cli -p 6379 shutdown nosave`), 100 comments are posted as a browser posts them
    (session cookie, CSRF token, signed time-trap stamp), Redis stays down for OUTAGE seconds in
    all, then it is started again (always, in a `finally`). Posts write no broker message; the
    worker's moderation feed claims them, finds Redis down, hands the claims back and backs off
    (up to 10 s), then moderates all 100 once Redis is back. PASS: 100 × 303, 100 stored, all
    moderated within 60 s of Redis returning.
(b) light load (4 clients: issue page reads, one comment post in four) against gunicorn on
    PostgreSQL; after 8 s PostgreSQL is restarted with `pg_ctlcluster … main restart` (and always
    started again in a `finally`); the load goes on for 12 s after. PASS: no errors before the
    restart, none among requests begun after `pg_ctlcluster` returned (pool pre-ping replaces the
    dead connections, no app restart).

Usage: .venv/bin/python bench/faults_infra.py [--only a|b] [--outage 40]
Run it when nobody else is using Redis or PostgreSQL: both go down for a while.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]

import _load as load

from tests.support import processes, servers

REDIS = "redis://127.0.0.1:6379/13"
REDIS_START = [
    "redis-server",
    "--daemonize",
    "yes",
    "--bind",
    "127.0.0.1",
    "-::1",
    "--port",
    "6379",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    "/var/lib/redis",
    "--logfile",
    "/var/log/redis/ci.log",
]
_ID = re.compile(r"#comment-(\d+)")


def pg_cluster() -> list[str]:
    version = max(os.listdir("/etc/postgresql"))
    return ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main"]


def ensure_redis() -> None:
    """Start Redis again if it is not answering (the whole machine depends on it)."""
    if servers.reachable("127.0.0.1", 6379):
        return
    subprocess.run(REDIS_START, check=False)
    for _ in range(100):
        if servers.reachable("127.0.0.1", 6379):
            return
        time.sleep(0.1)
    print("WARNING: Redis did not come back; start it with: " + " ".join(REDIS_START))


def ensure_postgres() -> None:
    if not servers.reachable("127.0.0.1", 5432):
        subprocess.run(pg_cluster() + ["start"], check=False)
    if not servers.reachable("127.0.0.1", 5432):
        print(
            "WARNING: PostgreSQL is not running; start it with: "
            + " ".join(pg_cluster())
            + " start"
        )


class Site:
    """gunicorn (+ optionally a worker with beat) on a throwaway PostgreSQL database."""

    def __init__(self, home: Path, broker: str | None, worker: bool):
        self.home = home
        self.url, self.drop = load.pg_database("margins_faults")
        self.env = load.margins_env(home, self.url, broker)
        self.app = load.margins_app(self.env)
        self.slug = load.prepare_margins(self.app, 20, title="Faults")
        self.port = servers.free_port()
        log = home / "web.log"
        self.procs = [
            load.start(load.gunicorn(sys.executable, "service.wsgi:app", self.port), self.env, log)
        ]
        if worker:
            self.procs.append(
                processes.start_worker(self.env, home / "worker.log", concurrency=2, beat=True)
            )
        load.wait_http("127.0.0.1", self.port, f"/issues/{self.slug}", proc=self.procs[0], log=log)

    def comments(self, ids: list[int]) -> tuple[int, int]:
        """(stored, moderated) among these comment ids."""
        from sqlalchemy import func, select

        from service.extensions import db
        from service.models import Comment

        with self.app.app_context():
            row = db.session.execute(
                select(func.count(), func.count().filter(Comment.moderation_due.is_(False))).where(
                    Comment.id.in_(ids)
                )
            ).one()
            db.session.rollback()
            db.engine.dispose()
        return row[0], row[1]

    def close(self) -> None:
        for proc in self.procs:
            processes.stop(proc)
        self.drop()


def post_comments(site: Site, count: int) -> tuple[Counter, list[int]]:
    setup, _ = load.margins_poster(site.port, site.slug)
    state = setup(0)
    time.sleep(3.2)  # past the form's time trap
    statuses, ids = Counter(), []
    for n in range(count):
        body = load.form(
            {
                "author": f"Outage {n}",
                "email": f"outage{n}@example.net",
                "url": "",
                "comment": f"Posted while the broker is down, number {n}.",
                "csrf_token": state["csrf"],
                "stamp": state["stamp"],
            }
        )
        answer = load.fetch(
            "127.0.0.1",
            site.port,
            "POST",
            f"/issues/{site.slug}/comments",
            body,
            {"Content-Type": "application/x-www-form-urlencoded", "Cookie": state["cookie"]},
        )
        statuses[answer.status] += 1
        found = _ID.search(answer.headers.get("Location") or "")
        if answer.status == 303 and found:
            ids.append(int(found.group(1)))
    return statuses, ids


def broker_down(home: Path, outage: float) -> bool:
    """(a) Redis stopped while 100 comments are posted."""
    import redis

    redis.Redis.from_url(REDIS).flushdb()
    site = Site(home, REDIS, worker=True)
    try:
        processes.wait_for(
            lambda: (
                "beat: Starting" in (home / "worker.log").read_text()
                or "ready" in (home / "worker.log").read_text()
            ),
            60,
            what="worker",
        )
        down_at = time.monotonic()
        subprocess.run(
            ["redis-cli", "-p", "6379", "shutdown", "nosave"], check=False, capture_output=True
        )
        try:
            statuses, ids = post_comments(site, 100)
            posted = time.monotonic() - down_at
            stored_down, _ = site.comments(ids)
            time.sleep(max(0.0, outage - (time.monotonic() - down_at)))
        finally:
            ensure_redis()
        back_at = time.monotonic()
        print(
            f"(a) Redis down {back_at - down_at:.1f} s; 100 posts took {posted:.1f} s: "
            f"statuses {dict(statuses)}, stored while down {stored_down}"
        )
        moderated, stored = 0, 0
        while time.monotonic() - back_at < 120:
            stored, moderated = site.comments(ids)
            if ids and moderated == len(ids):
                break
            time.sleep(1)
        waited = time.monotonic() - back_at
    finally:
        ensure_redis()
        site.close()
    ok = statuses == Counter({303: 100}) and stored == 100 and moderated == 100 and waited <= 60
    print(
        f"    moderated {moderated}/{len(ids)} {waited:.0f} s after Redis returned "
        f"({waited + back_at - down_at:.0f} s after the first post; the feed backs off to 10 s "
        f"while the broker is down)"
    )
    print(
        f"{'PASS' if ok else 'FAIL'} (a) 100 accepted and stored with the broker down; "
        f"all moderated within 60 s of its return"
    )
    return ok


def pg_restart(home: Path) -> bool:
    """(b) PostgreSQL restarted under light load."""
    site = Site(home, f"sqla+sqlite:///{home / 'broker.sqlite'}", worker=False)
    log: list[tuple[float, float, int]] = []  # (began, ended, status)
    lock, stop = threading.Lock(), threading.Event()
    setup, post = load.margins_poster(site.port, site.slug)
    states = [setup(i) for i in range(4)]
    time.sleep(3.2)

    def client(i: int) -> None:
        n = i
        while not stop.is_set():
            began = time.monotonic()
            try:
                if n % 4 == 3:
                    status = post(states[i], n)
                else:
                    status = load.fetch(
                        "127.0.0.1", site.port, "GET", f"/issues/{site.slug}", timeout=10
                    ).status
            except OSError:
                status = -1
            with lock:
                log.append((began, time.monotonic(), status))
            n += 4
            time.sleep(0.02)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
    restart = (0.0, 0.0)
    try:
        for t in threads:
            t.start()
        time.sleep(8)
        began = time.monotonic()
        try:
            subprocess.run(pg_cluster() + ["restart"], check=False, capture_output=True)
        finally:
            ensure_postgres()
        restart = (began, time.monotonic())
        time.sleep(12)
    finally:
        stop.set()
        for t in threads:
            t.join()
        ensure_postgres()
        site.close()
    phases = {"before": Counter(), "during": Counter(), "after": Counter()}
    for start, end, status in log:
        phase = "before" if end < restart[0] else "after" if start > restart[1] else "during"
        phases[phase]["ok" if status in (200, 303) else "error"] += 1
    print(f"(b) PostgreSQL restart took {restart[1] - restart[0]:.1f} s (pg_ctlcluster)")
    for phase, counts in phases.items():
        print(f"    {phase:<7} requests {sum(counts.values()):5d}   errors {counts['error']}")
    ok = (
        phases["before"]["error"] == 0
        and phases["after"]["error"] == 0
        and phases["after"]["ok"] > 0
    )
    print(
        f"{'PASS' if ok else 'FAIL'} (b) errors only during the restart; the app recovered "
        f"without a restart"
    )
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["a", "b"])
    parser.add_argument(
        "--outage",
        type=float,
        default=40.0,
        help="seconds Redis stays down in (a), posting included",
    )
    args = parser.parse_args()
    if not (servers.reachable("127.0.0.1", 5432) and servers.reachable("127.0.0.1", 6379)):
        print("FAIL PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379 are required")
        sys.exit(1)
    root = Path(tempfile.mkdtemp(prefix="margins-infra-"))
    ok = True
    try:
        if args.only in (None, "a"):
            (root / "a").mkdir()
            ok &= broker_down(root / "a", args.outage)
        if args.only in (None, "b"):
            (root / "b").mkdir()
            ok &= pg_restart(root / "b")
    finally:
        ensure_redis()
        ensure_postgres()
        shutil.rmtree(root, ignore_errors=True)
    print("all checks passed" if ok else "SOME CHECKS FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
