"""The public site: home, archive, issue pages, categories, 404."""

from __future__ import annotations

from datetime import UTC, datetime

from service.extensions import db
from tests.factories import make_issue


def test_home_lists_latest_issues_with_excerpts(client):
    make_issue("An older essay", body="Older words here.", days_ago=3)
    make_issue("The newest essay", body="Fresh words about *gardens*.", days_ago=1)
    page = client.get("/").get_data(as_text=True)
    assert page.index("The newest essay") < page.index("An older essay")
    assert "Fresh words about gardens." in page
    assert "Issue #2" in page


def test_drafts_and_scheduled_issues_are_never_public(client):
    from datetime import timedelta

    from service.models.base import utcnow
    from service.publishing import scheduling

    draft = make_issue("Secret draft", publish=False)
    later = make_issue("Secret scheduled", publish=False)
    scheduling.schedule(later.id, utcnow() + timedelta(days=1))
    for url in ("/", "/archive", "/feed.atom", "/sitemap.xml", "/category/essays"):
        body = client.get(url).get_data(as_text=True)
        assert "Secret" not in body and draft.slug not in body, url
    assert client.get(f"/issues/{draft.slug}").status_code == 404
    assert client.get(f"/issues/{later.slug}").status_code == 404


def test_issue_page_has_byline_navigation_and_share_links(app, client):
    older = make_issue("First thoughts", days_ago=10)
    middle = make_issue("Second thoughts", author="Jay Writer", category="Musings", days_ago=5)
    middle.published_at = datetime(2011, 2, 4, 8, 53, tzinfo=UTC)
    older.published_at = datetime(2011, 1, 4, 8, 53, tzinfo=UTC)
    newer = make_issue("Third thoughts", days_ago=1)
    db.session.commit()
    page = client.get(f"/issues/{middle.slug}").get_data(as_text=True)
    assert "Issue #2" in page
    assert 'by <span class="author">Jay Writer</span>' in page
    assert "February 4, 2011" in page and ">Musings</a>" in page
    assert f'href="/issues/{older.slug}"' in page and "Previous issue: First thoughts" in page
    assert f'href="/issues/{newer.slug}"' in page and "Next issue: Third thoughts" in page
    assert "mailto:?subject=Second%20thoughts" in page
    assert '<script src="http' not in page  # no third-party script


def test_archive_groups_by_year_and_paginates(app, client):
    app.config["ISSUES_PER_PAGE"] = 2
    for n, year in enumerate((2019, 2020, 2020)):
        issue = make_issue(f"Essay {n}")
        issue.published_at = datetime(year, 6, 1 + n, tzinfo=UTC)
    db.session.commit()
    first = client.get("/archive").get_data(as_text=True)
    assert "<h2>2020</h2>" in first and "Essay 2" in first and "Essay 0" not in first
    assert "Page 1 of 2" in first
    second = client.get("/archive?page=2").get_data(as_text=True)
    assert "<h2>2019</h2>" in second and "Essay 0" in second
    assert client.get("/archive?page=9").status_code == 404
    assert client.get("/archive?page=abc").status_code == 404


def test_category_page_lists_only_its_issues(client):
    make_issue("Tomatoes", category="Garden")
    make_issue("Receipts", category="Money")
    page = client.get("/category/garden").get_data(as_text=True)
    assert "Tomatoes" in page and "Receipts" not in page
    assert client.get("/category/nothing-here").status_code == 404


def test_unknown_pages_get_a_friendly_404(client):
    response = client.get("/issues/no-such-issue")
    assert response.status_code == 404
    assert "We couldn’t find that page" in response.get_data(as_text=True)
    assert 'href="/archive"' in response.get_data(as_text=True)


def test_related_issues_are_linked(client):
    base = make_issue("Compost basics", body="Compost soil worms garden.", category="Garden")
    make_issue("Worm farms", body="Worms make compost for the garden soil.", category="Garden")
    page = client.get(f"/issues/{base.slug}").get_data(as_text=True)
    assert "Related issues" in page and "Worm farms" in page
