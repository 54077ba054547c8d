"""The Atom feed and the sitemap."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from tests.factories import make_issue

ATOM = "{http://www.w3.org/2005/Atom}"


def test_atom_feed_is_valid_and_lists_published_issues(client):
    make_issue("Feed me", body="Body with <b>bold</b> and **strong**.", category="Notes")
    make_issue("Not yet", publish=False)
    response = client.get("/feed.atom")
    assert response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)
    assert root.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{required}") is not None
    self_link = [link for link in root.findall(f"{ATOM}link") if link.get("rel") == "self"]
    assert self_link[0].get("href") == "http://margins.test/feed.atom"
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 1
    entry = entries[0]
    assert entry.find(f"{ATOM}title").text == "Issue #1: Feed me"
    assert entry.find(f"{ATOM}id").text == "http://margins.test/issues/feed-me"
    assert entry.find(f"{ATOM}author/{ATOM}name").text == "Ann Author"
    assert entry.find(f"{ATOM}category").get("term") == "Notes"
    assert "<strong>strong</strong>" in entry.find(f"{ATOM}content").text


def test_sitemap_lists_public_urls(client):
    issue = make_issue("Mapped")
    make_issue("Hidden", publish=False)
    root = ET.fromstring(client.get("/sitemap.xml").data)
    locs = [el.text for el in root.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert f"http://margins.test/issues/{issue.slug}" in locs
    assert not any("hidden" in loc for loc in locs)
