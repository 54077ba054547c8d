"""Writing, numbering, scheduling and publishing issues."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.core.rendering import markdown_to_html
from service.extensions import db
from service.models import Event, Issue
from service.models.base import utcnow
from service.publishing import related, scheduling, writing
from tests.factories import make_issue


def test_markdown_renders_structure_and_strips_scripts():
    html = markdown_to_html(
        "## Heading\n\n- one\n- two\n\n> quoted\n\n*em* [link](https://example.org)\n\n"
        '<script>alert(1)</script><a href="javascript:alert(1)">x</a>'
        "<img src=x onerror=alert(1)>"
    )
    assert "<h2>Heading</h2>" in html
    assert "<li>one</li>" in html and "<blockquote>" in html and "<em>em</em>" in html
    assert 'href="https://example.org"' in html
    assert "<script" not in html and "javascript:" not in html and "onerror" not in html


def test_issues_are_numbered_in_publication_order(app):
    first = make_issue("First")
    draft = make_issue("Draft", publish=False)
    second = make_issue("Second")
    assert (first.number, second.number) == (1, 2)
    assert db.session.get(Issue, draft.id).number is None
    scheduling.publish(draft.id)
    assert db.session.get(Issue, draft.id).number == 3


def test_publishing_twice_changes_nothing(app):
    issue = make_issue("Once")
    published_at = issue.published_at
    again = scheduling.publish(issue.id)
    assert again.number == 1 and again.published_at == published_at
    assert db.session.query(Event).filter_by(action="issue.published").count() == 1


def test_slugs_are_unique_and_readable(app):
    a = make_issue("Hello, World! Ça va?")
    b = make_issue("Hello, World! Ça va?")
    assert a.slug == "hello-world-ca-va"
    assert b.slug == "hello-world-ca-va-2"


def test_draft_needs_a_title(app):
    with pytest.raises(writing.PublishingError, match="title"):
        writing.create_draft("  ", "body", "Ann")


def test_scheduled_issue_publishes_when_its_time_comes(app, client):
    issue = make_issue("Tomorrow", publish=False)
    when = utcnow() + timedelta(hours=2)
    scheduling.schedule(issue.id, when)
    assert scheduling.publish_due() == []
    assert client.get(f"/issues/{issue.slug}").status_code == 404
    assert scheduling.publish_due(now=when + timedelta(seconds=1)) == [issue.id]
    fresh = db.session.get(Issue, issue.id)
    assert fresh.status == "published" and fresh.published_at == when and fresh.number == 1
    assert client.get(f"/issues/{issue.slug}").status_code == 200


def test_scheduled_issue_is_published_at_most_once(app):
    issue = make_issue("Race", publish=False)
    scheduling.schedule(issue.id, utcnow() - timedelta(seconds=1))
    assert scheduling.publish_due() == [issue.id]
    assert scheduling.publish_due() == []
    assert db.session.query(Event).filter_by(action="issue.published").count() == 1


def test_unpublish_hides_the_issue_again(app, client):
    issue = make_issue("Oops")
    assert client.get(f"/issues/{issue.slug}").status_code == 200
    scheduling.unpublish(issue.id)
    assert client.get(f"/issues/{issue.slug}").status_code == 404
    assert b"Oops" not in client.get("/feed.atom").data


def test_related_prefers_same_category_and_similar_words(app):
    base = make_issue(
        "Gardening notes", body="Tomatoes, soil, compost and seedlings.", category="Garden"
    )
    similar = make_issue("Compost", body="Compost, soil and tomatoes again.", category="Garden")
    make_issue("Taxes", body="Quarterly filings and receipts.", category="Money")
    found = related.related(base)
    assert found[0].id == similar.id
    assert all(r.title != "Taxes" for r in found)


def test_related_issues_follow_publishing_in_this_process_at_once(app):
    base = make_issue("Gardening notes", body="Tomatoes, soil, compost.", category="Garden")
    assert related.related(base) == []  # worked out once, then kept for ten minutes
    newer = make_issue("More compost", body="Soil and compost.", category="Garden")
    assert [r.id for r in related.related(base)] == [newer.id]
    scheduling.unpublish(newer.id)
    assert related.related(base) == []


def test_two_schedulers_at_once_publish_each_issue_once(app):
    """Two beat processes firing together: each issue is claimed by exactly one of them."""
    import threading

    issues = [make_issue(f"Concurrent {n}", publish=False) for n in range(6)]
    ids = [issue.id for issue in issues]
    for issue_id in ids:
        scheduling.schedule(issue_id, utcnow() - timedelta(seconds=1))
    db.session.remove()
    results, barrier = [], threading.Barrier(2)

    def scheduler():
        with app.app_context():
            barrier.wait()
            results.append(scheduling.publish_due())
            db.session.remove()

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    published = sorted(results[0] + results[1])
    assert published == ids  # each once, none twice
    assert db.session.query(Event).filter_by(action="issue.published").count() == 6
    numbers = sorted(i.number for i in db.session.query(Issue).all())
    assert numbers == [1, 2, 3, 4, 5, 6]
