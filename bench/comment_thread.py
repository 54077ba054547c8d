"""Issue pages with many comments: render-once thread vs an empty page vs render-on-read, same run.

Builds an issue with N threaded approved comments (default 200) in a fresh SQLite database and
serves its page repeatedly through the WSGI app (one process, no network). Prints requests/s for
an issue with no comments and for the N-comment issue, their ratio, and how much slower the page
would be if each comment's Markdown were rendered on every read (as Isso does).
Usage: .venv/bin/python bench/comment_thread.py [N] [REQUESTS]
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service import create_app
from service.core.rendering import comment_markdown_to_html
from service.extensions import db
from service.models import Comment
from service.models.base import utcnow
from tests.conftest import base_config, migrate
from tests.factories import make_issue

BODY = "A *thoughtful* reply with a [link](https://example.org) and\n\n> a quote.\n\nThanks!"


def build(n: int):
    home = Path(tempfile.mkdtemp(prefix="margins-bench-"))
    config = base_config(home, f"sqlite:///{home / 'margins.sqlite'}")
    migrate(create_app(config))
    app = create_app(config)
    with app.app_context():
        empty, busy = make_issue("Empty"), make_issue("Busy")
        ids: list[int] = []
        for i in range(n):
            parent = ids[i // 3] if i % 3 and ids else None
            comment = Comment(
                issue_id=busy.id,
                parent_id=parent,
                author_name=f"Reader {i}",
                author_email=f"reader{i}@example.net",
                author_url="https://example.org" * (i % 2),
                avatar_key=f"{i:032x}",
                body_md=BODY,
                body_html=comment_markdown_to_html(BODY),
                status="approved",
                created_at=utcnow(),
            )
            db.session.add(comment)
            db.session.flush()
            ids.append(comment.id)
        db.session.commit()
        return app, empty.slug, busy.slug


def rate(client, slug: str, requests: int) -> float:
    client.get(f"/issues/{slug}")
    start = time.perf_counter()
    for _ in range(requests):
        assert client.get(f"/issues/{slug}").status_code == 200
    return requests / (time.perf_counter() - start)


def main() -> None:
    logging.disable(logging.WARNING)
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    requests = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    app, empty, busy = build(n)
    client = app.test_client()
    empty_rate, busy_rate = rate(client, empty, requests), rate(client, busy, requests)
    start = time.perf_counter()
    for _ in range(20):
        for _ in range(n):
            comment_markdown_to_html(BODY)
    render_cost = (time.perf_counter() - start) / 20
    on_read_rate = 1 / (1 / busy_rate + render_cost)
    print(f"issue page, 0 comments:   {empty_rate:7.1f} requests/s")
    print(
        f"issue page, {n} comments: {busy_rate:7.1f} requests/s "
        f"({busy_rate / empty_rate:.2f}× the empty page)"
    )
    print(
        f"if rendered on every read: {on_read_rate:7.1f} requests/s "
        f"(render-once is {busy_rate / on_read_rate:.2f}× faster)"
    )


if __name__ == "__main__":
    main()
