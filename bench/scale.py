"""Scale: 1,000,000 subscribers and 1,000,000 comments in PostgreSQL; server time of the pages.

Generates the rows with INSERT … SELECT generate_series in a throwaway database on
127.0.0.1:5432 (the comments-version trigger is disabled during the bulk load and the versions
set afterwards; then VACUUM ANALYZE, as autovacuum would), then times, through the app in-process (server time: no network, no client),
the issue page (200 approved comments; uncached and from the rendered-thread cache), the
moderation queue (pending tab, first and a deep keyset page) and the subscriber admin list
(first page, a status filter, a search). Prints the median of 15 requests each and every SQL
statement's EXPLAIN ANALYZE plan summary (index or sequential scans, and time).

    .venv/bin/python bench/scale.py [ROWS]     (default 1000000 of each)
"""

from __future__ import annotations

import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]

import _load as load

ISSUES = 5000
GOAL_MS = 50.0

GENERATE = [
    """INSERT INTO issues (number, slug, title, body_md, body_html, excerpt, status, published_at,
       comments_open, email_subscribers, created_at, updated_at, comments_version)
       SELECT g, 'scale-' || g, 'Scale issue ' || g, 'Body', '<p>An essay about scale.</p>',
       'An essay.', 'published', now() - make_interval(hours => g), true, true, now(), now(), 0
       FROM generate_series(1, {issues}) g""",
    "ALTER TABLE comments DISABLE TRIGGER comments_version_bump",
    """INSERT INTO comments (issue_id, kind, author_name, author_email, author_url, author_ip,
       user_agent, avatar_key, author_token, notify_replies, body_md, body_html, status,
       is_author_reply, moderation_due, decision, decision_reasons, created_at)
       SELECT 1 + mod(g, {issues}), 'comment', 'Reader ' || g, 'reader' || (mod(g, 200000)) ||
       '@example.net', '', '192.0.2.' || (mod(g, 250)), '', md5(g::text), '', false,
       'Comment ' || g, '<p>Comment ' || g || ' says something <em>thoughtful</em>.</p>',
       CASE WHEN mod(g, 20) = 0 THEN 'pending' WHEN mod(g, 33) = 0 THEN 'spam'
            WHEN mod(g, 50) = 0 THEN 'trash' ELSE 'approved' END,
       false, false, '', '', now() - make_interval(secs => g)
       FROM generate_series(1, {rows}) g""",
    "ALTER TABLE comments ENABLE TRIGGER comments_version_bump",
    "UPDATE issues SET comments_version = 1",
    """INSERT INTO subscribers (email, name, status, delivery, reply_notifications, source,
       signup_ip, created_at, confirm_due)
       SELECT 'sub' || g || '@example.org', 'Subscriber ' || g,
       CASE WHEN mod(g, 10) = 0 THEN 'pending' WHEN mod(g, 17) = 0 THEN 'unsubscribed' ELSE 'active' END,
       'issue', true, 'import', '', now() - make_interval(secs => g), false
       FROM generate_series(1, {rows}) g""",
]


def generate(app, rows: int) -> None:
    from service.extensions import db
    from service.staff import accounts

    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        accounts.create_user("admin@example.com", "scale-password-1", "admin", "Admin")
        began = time.perf_counter()
        with db.engine.begin() as conn:
            for statement in GENERATE:
                conn.exec_driver_sql(statement.format(issues=ISSUES, rows=rows))
        # What autovacuum does soon after a bulk load: statistics and the visibility map
        # (index-only scans).
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
        print(
            f"generated {rows:,} comments and {rows:,} subscribers in "
            f"{time.perf_counter() - began:.0f} s"
        )


def capture(app):
    """Record (statement, parameters) of every query the app sends."""
    from sqlalchemy import event

    from service.extensions import db

    seen: list[tuple[str, object]] = []
    with app.app_context():
        event.listen(
            db.engine,
            "before_cursor_execute",
            lambda conn, cur, statement, params, *a: seen.append((statement, params)),
        )
    return seen


def plan_summary(app, statement: str, params) -> str:
    """The scan nodes of one statement's plan, and its execution time."""
    from service.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        lines = [
            row[0]
            for row in conn.exec_driver_sql("EXPLAIN (ANALYZE, COSTS OFF) " + statement, params)
        ]
    scans = [
        re.sub(r"\s+", " ", line.strip().lstrip("-> "))
        for line in lines
        if re.search(r"Scan|Sort Method|Limit", line)
    ]
    total = next((line for line in lines if line.startswith("Execution Time")), "")
    return "; ".join(s.split(" (actual")[0] for s in scans[:4]) + f"  [{total}]"


def measure(app, client, label: str, url: str, fresh=None, repeat: int = 15) -> float:
    seen = capture(app)
    client.get(url)
    times = []
    for _ in range(repeat):
        if fresh:
            fresh()
        seen.clear()
        began = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    median = statistics.median(times)
    verdict = "ok" if median < GOAL_MS else "OVER 50 ms"
    print(f"\n{label:<46} {median:7.1f} ms median, {len(seen)} queries  ({verdict})")
    for statement, params in seen:
        if statement.lstrip().upper().startswith("SELECT"):
            first = re.sub(r"\s+", " ", statement)[:90]
            print(f"   {first}…\n      {plan_summary(app, statement, params)}")
    return median


def deep_cursor(rows: int) -> str:
    """A keyset cursor half-way down the pending comments."""
    from datetime import UTC, datetime, timedelta
    from urllib.parse import quote

    moment = datetime.now(UTC) - timedelta(seconds=rows // 2)
    return quote(f"{moment.isoformat()}~{rows // 2}")


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    url, drop = load.pg_database("margins_scale")
    home = Path(tempfile.mkdtemp(prefix="margins-scale-"))
    env = load.margins_env(home, url, "memory://")
    try:
        app = load.margins_app(env)
        app.config["WTF_CSRF_ENABLED"] = False
        generate(app, rows)
        with app.app_context():
            from service.comments import page_cache

            client = app.test_client()
            client.post(
                "/login", data={"email": "admin@example.com", "password": "scale-password-1"}
            )
            results = [
                measure(
                    app,
                    client,
                    "issue page, 200 comments (uncached thread)",
                    "/issues/scale-1",
                    fresh=lambda: page_cache.cache().clear(),
                ),
                measure(app, client, "issue page, 200 comments (cached thread)", "/issues/scale-1"),
                measure(app, client, "moderation queue, pending, first page", "/moderate/pending"),
                measure(
                    app,
                    client,
                    "moderation queue, pending, deep keyset page",
                    f"/moderate/pending?before={deep_cursor(rows)}",
                ),
                measure(app, client, "subscriber list, first page", "/admin/newsletter/"),
                measure(
                    app,
                    client,
                    "subscriber list, status=pending, page 50",
                    "/admin/newsletter/?status=pending&page=50",
                ),
                measure(
                    app, client, "subscriber list, search 'sub4242'", "/admin/newsletter/?q=sub4242"
                ),
            ]
        print(f"\nslowest page: {max(results):.1f} ms (goal < {GOAL_MS:g} ms)")
    finally:
        drop()


if __name__ == "__main__":
    main()
