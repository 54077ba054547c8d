"""Writing, numbering, scheduling and publishing issues."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service import publishing
from service.extensions import db
from service.models import Event, Issue
from service.models.base import utcnow
from service.rendering import markdown_to_html
from tests.factories import make_issue


def test_markdown_renders_structure_and_strips_scripts():
    html = markdown_to_html(
        "## Heading\n\n- one\n- two\n\n> quoted\n\n*em* [link](https://example.org)\n\n"
        "<script>alert(1)</script><a href=\"javascript:alert(1)\">x</a>"
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
    publishing.publish(draft.id)
    assert db.session.get(Issue, draft.id).number == 3


def test_publishing_twice_changes_nothing(app):
    issue = make_issue("Once")
    published_at = issue.published_at
    again = publishing.publish(issue.id)
    assert again.number == 1 and again.published_at == published_at
    assert db.session.query(Event).filter_by(action="issue.published").count() == 1


def test_slugs_are_unique_and_readable(app):
    a = make_issue("Hello, World! Ça va?")
    b = make_issue("Hello, World! Ça va?")
    assert a.slug == "hello-world-ca-va"
    assert b.slug == "hello-world-ca-va-2"


def test_draft_needs_a_title(app):
    with pytest.raises(publishing.PublishingError, match="title"):
        publishing.create_draft("  ", "body", "Ann")


def test_scheduled_issue_publishes_when_its_time_comes(app, client):
    issue = make_issue("Tomorrow", publish=False)
    when = utcnow() + timedelta(hours=2)
    publishing.schedule(issue.id, when)
    assert publishing.publish_due() == []
    assert client.get(f"/issues/{issue.slug}").status_code == 404
    assert publishing.publish_due(now=when + timedelta(seconds=1)) == [issue.id]
    fresh = db.session.get(Issue, issue.id)
    assert fresh.status == "published" and fresh.published_at == when and fresh.number == 1
    assert client.get(f"/issues/{issue.slug}").status_code == 200


def test_scheduled_issue_is_published_at_most_once(app):
    issue = make_issue("Race", publish=False)
    publishing.schedule(issue.id, utcnow() - timedelta(seconds=1))
    assert publishing.publish_due() == [issue.id]
    assert publishing.publish_due() == []
    assert db.session.query(Event).filter_by(action="issue.published").count() == 1


def test_unpublish_hides_the_issue_again(app, client):
    issue = make_issue("Oops")
    assert client.get(f"/issues/{issue.slug}").status_code == 200
    publishing.unpublish(issue.id)
    assert client.get(f"/issues/{issue.slug}").status_code == 404
    assert b"Oops" not in client.get("/feed.atom").data


def test_related_prefers_same_category_and_similar_words(app):
    base = make_issue("Gardening notes", body="Tomatoes, soil, compost and seedlings.",
                      category="Garden")
    similar = make_issue("Compost", body="Compost, soil and tomatoes again.", category="Garden")
    make_issue("Taxes", body="Quarterly filings and receipts.", category="Money")
    related = publishing.related(base)
    assert related[0].id == similar.id
    assert all(r.title != "Taxes" for r in related)


def test_related_issues_follow_publishing_in_this_process_at_once(app):
    base = make_issue("Gardening notes", body="Tomatoes, soil, compost.", category="Garden")
    assert publishing.related(base) == []  # worked out once, then kept for ten minutes
    newer = make_issue("More compost", body="Soil and compost.", category="Garden")
    assert [r.id for r in publishing.related(base)] == [newer.id]
    publishing.unpublish(newer.id)
    assert publishing.related(base) == []


def test_two_schedulers_at_once_publish_each_issue_once(app):
    """Two beat processes firing together: each issue is claimed by exactly one of them."""
    import threading

    issues = [make_issue(f"Concurrent {n}", publish=False) for n in range(6)]
    ids = [issue.id for issue in issues]
    for issue_id in ids:
        publishing.schedule(issue_id, utcnow() - timedelta(seconds=1))
    db.session.remove()
    results, barrier = [], threading.Barrier(2)

    def scheduler():
        with app.app_context():
            barrier.wait()
            results.append(publishing.publish_due())
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
