"""No N+1 queries: the pages that list rows issue as many statements for 3 rows as for 40."""

from __future__ import annotations

from service.comments import page_cache
from service.extensions import db
from service.models import Comment, Subscriber
from service.models.base import utcnow
from tests.conftest import login
from tests.factories import make_comment, make_issue
from tests.support.queries import statements


def measure(client, url: str, fresh=lambda: None) -> tuple[int, str]:
    client.get(url)  # warm up: templates, login, settings
    fresh()
    with statements() as seen:
        response = client.get(url)
    assert response.status_code == 200
    return len(seen), response.get_data(as_text=True)


def add_comments(issue, n: int, status: str, start: int) -> None:
    parent = make_comment(issue, name="Parent", email=f"parent{start}@example.net")
    db.session.add_all(
        Comment(
            issue_id=issue.id,
            parent_id=parent.id if i % 2 else None,
            author_name=f"Reader {start + i}",
            author_email=f"r{start + i}@example.net",
            author_url="https://example.org",
            body_md="Hi",
            body_html="<p>Hi</p>",
            status=status,
            created_at=utcnow(),
        )
        for i in range(n)
    )
    db.session.commit()


def test_issue_page_queries_do_not_grow_with_threaded_comments(client):
    small, big = make_issue("Small"), make_issue("Big")
    add_comments(small, 2, "approved", 0)
    add_comments(big, 40, "approved", 100)
    uncached = page_cache.cache().clear
    few, _ = measure(client, f"/issues/{small.slug}", uncached)
    many, page = measure(client, f"/issues/{big.slug}", uncached)
    assert "41 responses to “Big”" in page
    assert many == few


def test_moderation_queue_queries_do_not_grow_with_comments(app, moderator):
    issue = make_issue("Queue")
    client = app.test_client()
    login(client, "bob@example.com", "bob-password-12")
    add_comments(issue, 2, "pending", 0)
    few, _ = measure(client, "/moderate/pending")
    add_comments(issue, 20, "pending", 100)
    many, page = measure(client, "/moderate/pending")
    assert "r119@example.net" in page  # the newest held comment, email visible to moderators
    assert many == few


def test_subscriber_list_queries_do_not_grow_with_subscribers(app, admin_client):
    def add(n: int, start: int) -> None:
        db.session.add_all(
            Subscriber(
                email=f"s{start + i}@example.org",
                name=f"Sub {start + i}",
                status="active" if i % 3 else "pending",
            )
            for i in range(n)
        )
        db.session.commit()

    add(3, 0)
    few, _ = measure(admin_client, "/admin/newsletter/")
    add(40, 100)
    many, page = measure(admin_client, "/admin/newsletter/")
    assert "s139@example.org" in page
    assert many == few


def test_a_comment_post_is_one_insert(client):
    from service.models.base import utcnow as now
    from tests.comments.conftest import form_data

    issue = make_issue("Busy thread")
    add_comments(issue, 40, "approved", 0)
    client.post(f"/issues/{issue.slug}/comments", data=form_data(issue))  # warm up
    db.session.query(Comment).delete()
    db.session.commit()
    url, data = f"/issues/{issue.slug}/comments", form_data(issue, comment=f"Posted at {now()}")
    with statements() as seen:
        response = client.post(url, data=data)
    assert response.status_code == 303
    assert [s.split()[0] for s in seen] == ["INSERT"], seen  # the issue: a copy under 2 s old
    assert "NOT (EXISTS" in seen[0]  # open-issue, duplicate and flood checks ride in the insert
