"""render_classic over every post in WordPress's own importer test exports (../shared fixtures)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

from service.core.rendering import clean_article_html
from service.importers.shortcodes import ShortcodeReport, find_shortcodes, render_classic
from tests.conftest import shared_file

CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
EXCERPT = "{http://wordpress.org/export/1.2/excerpt/}encoded"
MALFORMED = {"malformed.xml", "malformed-simple.xml", "crazy-cdata.xml"}  # on purpose (README)
CORE_SHORTCODE = re.compile(r"\[/?(?:caption|wp_caption|gallery|playlist|audio|video|embed)\b")


@dataclass
class Post:
    file: str
    post_id: int
    source: str
    html: str
    report: ShortcodeReport


def _wp(el: ET.Element, name: str) -> str:
    """A wp:name child's text, whatever the export's namespace version (1.0-1.2, http or https)."""
    for child in el:
        if child.tag.endswith("}" + name) and "wordpress.org/export/" in child.tag:
            return (child.text or "").strip()
    return ""


def _attachments(items: list[ET.Element]):
    """What the importer knows from a WXR: id -> (url, alt or title, caption), and children."""
    found, children = {}, defaultdict(list)
    for item in items:
        if _wp(item, "post_type") != "attachment":
            continue
        ident = int(_wp(item, "post_id") or 0)
        alt = next(
            (
                _wp(m, "meta_value")
                for m in item
                if m.tag.endswith("}postmeta") and _wp(m, "meta_key") == "_wp_attachment_image_alt"
            ),
            "",
        )
        found[ident] = (
            _wp(item, "attachment_url"),
            alt or item.findtext("title") or "",
            item.findtext(EXCERPT) or "",
        )
        children[int(_wp(item, "post_parent") or 0)].append(ident)
    return found, children


def _render_file(path: Path) -> list[Post]:
    items = list(ET.parse(path).getroot().iter("item"))
    attachments, children = _attachments(items)
    posts = []
    for item in items:
        source = item.findtext(CONTENT)
        if source is None:
            continue
        ident = int(_wp(item, "post_id") or 0)
        html, report = render_classic(source, attachments.get, attached=children.get(ident, []))
        posts.append(Post(path.name, ident, source, html, report))
    return posts


@pytest.fixture(scope="module")
def fixtures_dir() -> Path:
    return shared_file("fixtures/wordpress-importer/README.md").parent


@pytest.fixture(scope="module")
def posts(fixtures_dir) -> list[Post]:
    rendered = []
    for path in sorted(fixtures_dir.glob("*.xml")):
        if path.name in MALFORMED:
            with pytest.raises(ET.ParseError):
                ET.parse(path)
            continue
        rendered += _render_file(path)  # must not raise
    return rendered


def test_every_post_renders(posts):
    assert len(posts) > 300
    assert {p.file for p in posts} >= {"theme-unit-test-data.xml", "a11y-unit-test-data.xml"}
    for post in posts:
        clean_article_html(post.html)  # and the sanitizer takes the result


def test_no_literal_shortcode_is_left(posts):
    left = [
        (p.file, p.post_id, find_shortcodes(p.html)[:1] or CORE_SHORTCODE.findall(p.html))
        for p in posts
        if find_shortcodes(p.html) or CORE_SHORTCODE.search(p.html)
    ]
    assert left == []


def test_core_shortcodes_became_markup(posts):
    sources = "".join(p.source for p in posts)
    html = "".join(p.html for p in posts)
    assert html.count('<figure class="wp-caption') == len(re.findall(r"\[caption\b", sources))
    assert html.count('<figure class="gallery gallery-columns-') >= 20
    assert 'class="embed embed-audio"' in html and 'class="embed embed-youtube"' in html


def test_the_reports(posts):
    unknown = sum((p.report for p in posts), Counter())
    missing = sum((p.report.missing for p in posts), Counter())
    assert unknown == Counter()  # these exports use WordPress core shortcodes only
    assert missing == Counter({763: 1})  # a gallery names an attachment the export lacks


def test_editorial_brackets_stay(posts):
    html = "".join(p.html for p in posts)
    assert "coracles [simple boat]." in html
    assert "<td>[</td>" in html
