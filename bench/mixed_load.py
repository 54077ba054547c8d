"""Mixed load for 60 s at 32 concurrent clients: reads, comment posts and subscribes.

Runs twice: on the embedded default (what `margins run` starts: gunicorn with 2 workers, a Celery
worker with beat on the SQLite broker, SQLite in WAL mode, mail to the local Maildir) and on
PostgreSQL + Redis (a throwaway database on 127.0.0.1:5432, Redis db 12 as broker); the worker
has 4 threads as under `margins run`. Each client fetches the issue page first (session cookie,
CSRF token, both forms' time-trap stamps) and then loops: 7 reads of the issue page, 2 comment posts, 1 subscribe in every 10 requests.
Rate limits are off (RATELIMIT_ENABLED=false, comments.flood_seconds=0): one machine plays 32
readers. Afterwards it checks: zero 5xx, zero "database is locked" in any log, every accepted
comment stored, and every one of them moderated by the worker afterwards (it waits up to
600 s and prints how long the backlog took).

    .venv/bin/python bench/mixed_load.py [SECONDS] [CLIENTS]      (default 60 s, 32 clients)
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]

import _load as load

from tests.support import processes, servers

REDIS = "redis://127.0.0.1:6379/12"
_ID = re.compile(r"#comment-(\d+)")


def client_state(port: int, slug: str):
    def setup(i: int) -> dict:
        page = load.fetch("127.0.0.1", port, "GET", f"/issues/{slug}")
        html = page.body.decode()
        comment_form = html[html.index('id="commentform"') :]
        subscribe_form = html[html.index('class="subscribe-form"') :]
        return {
            "cookie": page.cookie(),
            "csrf": load.hidden(comment_form, "csrf_token"),
            "stamp": load.hidden(comment_form, "stamp"),
            "sub_stamp": load.hidden(subscribe_form, "stamp"),
        }

    return setup


def mixed(port: int, slug: str, accepted: list[int], lock: threading.Lock):
    """One request of the mix; records the ids of accepted comments."""

    def request(state: dict, n: int) -> int:
        kind = n % 10
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": state["cookie"]}
        if kind < 7:
            return load.fetch("127.0.0.1", port, "GET", f"/issues/{slug}").status
        if kind < 9:
            body = load.form(
                {
                    "author": f"Mixed {n}",
                    "email": f"mixed{n}@example.net",
                    "comment": f"Mixed-load comment {n}.",
                    "csrf_token": state["csrf"],
                    "stamp": state["stamp"],
                }
            )
            answer = load.fetch(
                "127.0.0.1", port, "POST", f"/issues/{slug}/comments", body, headers
            )
            found = _ID.search(answer.headers.get("Location") or "")
            if answer.status == 303 and found:
                with lock:
                    accepted.append(int(found.group(1)))
            return answer.status
        body = load.form(
            {
                "email": f"sub{n}@example.org",
                "name": f"Sub {n}",
                "csrf_token": state["csrf"],
                "stamp": state["sub_stamp"],
            }
        )
        return load.fetch("127.0.0.1", port, "POST", "/subscribe", body, headers).status

    return request


def settle(app, ids: list[int], timeout: float = 600) -> tuple[int, int, float]:
    """(stored, moderated, seconds waited) for the accepted comment ids."""
    from sqlalchemy import func, select

    from service.extensions import db
    from service.models import Comment

    began = time.monotonic()
    with app.app_context():
        while True:
            rows = db.session.execute(
                select(func.count(), func.count().filter(Comment.moderation_due.is_(False))).where(
                    Comment.id.in_(ids)
                )
            ).one()
            db.session.rollback()
            if rows[1] == len(ids) or time.monotonic() - began > timeout:
                db.engine.dispose()
                return rows[0], rows[1], time.monotonic() - began
            time.sleep(1)


def run_stack(
    label: str, home: Path, database_url: str, broker: str | None, seconds: float, clients: int
) -> bool:
    env = load.margins_env(home, database_url, broker, WEB_CONCURRENCY="2")
    app = load.margins_app(env)
    slug = load.prepare_margins(app, 50, title="Mixed load")
    port = servers.free_port()
    web_log, worker_log = home / "web.log", home / "worker.log"
    web = load.start(
        load.gunicorn(sys.executable, "service.wsgi:app", port) + ["--access-logfile", "-"],
        env,
        web_log,
    )
    worker = processes.start_worker(env, worker_log, concurrency=4, beat=True)  # as margins run
    accepted: list[int] = []
    try:
        load.wait_http("127.0.0.1", port, f"/issues/{slug}", proc=web, log=web_log)
        result = load.run(
            f"{label}: mixed",
            mixed(port, slug, accepted, threading.Lock()),
            clients,
            seconds,
            setup=client_state(port, slug),
            ok=(200, 303),
            pause=3.2,
        )
        stored, moderated, waited = settle(app, accepted)
    finally:
        processes.stop(web)
        processes.stop(worker)
    logs = web_log.read_text(errors="replace") + worker_log.read_text(errors="replace")
    locked = logs.count("database is locked")
    server_errors = sum(n for status, n in result.statuses.items() if status >= 500)
    print(result.line())
    print(
        f"  5xx: {server_errors}   'database is locked' in logs: {locked}   "
        f"comments accepted {len(accepted)}, stored {stored}, moderated {moderated} "
        f"(all moderated {waited:.0f} s after the load)"
    )
    return server_errors == 0 and locked == 0 and stored == moderated == len(accepted)


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 60
    clients = int(sys.argv[2]) if len(sys.argv) > 2 else 32
    root = Path(tempfile.mkdtemp(prefix="margins-mixed-"))
    print(f"{clients} clients for {seconds:g} s: 70% issue page, 20% comment posts, 10% subscribes")
    ok = True
    try:
        (root / "embedded").mkdir()
        ok &= run_stack(
            "embedded (SQLite + SQLite broker)",
            root / "embedded",
            f"sqlite:///{root / 'embedded' / 'margins.sqlite'}",
            None,
            seconds,
            clients,
        )
        if servers.reachable("127.0.0.1", 5432) and servers.reachable("127.0.0.1", 6379):
            import redis

            redis.Redis.from_url(REDIS).flushdb()
            url, drop = load.pg_database("margins_mixed")
            (root / "pg").mkdir()
            try:
                ok &= run_stack("PostgreSQL + Redis", root / "pg", url, REDIS, seconds, clients)
            finally:
                drop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print("all checks passed" if ok else "SOME CHECKS FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
