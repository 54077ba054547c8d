"""Markdown and imported HTML → safe HTML, with an allow-list sanitizer (nh3)."""

from __future__ import annotations

import html
import re

import nh3
from markdown_it import MarkdownIt

ARTICLE_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote", "pre",
    "code", "em", "strong", "b", "i", "a", "img", "figure", "figcaption", "table", "thead",
    "tbody", "tr", "th", "td", "sup", "sub", "del", "s",
}  # fmt: skip
ARTICLE_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
}
_md = MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)


def clean_article_html(raw: str) -> str:
    """Sanitize an issue body (from Markdown or an import) to the article allow-list."""
    return nh3.clean(
        raw,
        tags=ARTICLE_TAGS,
        attributes=ARTICLE_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener",
    )


def markdown_to_html(text: str) -> str:
    """Render an issue's Markdown to sanitized HTML (raw HTML inside is sanitized too)."""
    return clean_article_html(_md.render(text or ""))


_BLOCK_TAG = re.compile(
    r"</?(p|br|h\d|li|ul|ol|div|blockquote|pre|tr|td|th|hr)\b[^>]*>", re.IGNORECASE
)
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def plain_text(fragment: str) -> str:
    """Return the text of an HTML fragment with tags dropped and entities decoded."""
    text = _TAG.sub("", _BLOCK_TAG.sub(" ", fragment or ""))
    return _SPACE.sub(" ", html.unescape(text)).strip()


def excerpt(fragment: str, words: int = 50) -> str:
    """The first `words` words of an HTML fragment, as plain text."""
    parts = plain_text(fragment).split(" ")
    text = " ".join(parts[:words])
    return text + ("…" if len(parts) > words else "")


COMMENT_TAGS = {
    "p",
    "br",
    "a",
    "em",
    "strong",
    "b",
    "i",
    "blockquote",
    "code",
    "pre",
    "ul",
    "ol",
    "li",
    "del",
}
_comment_md = MarkdownIt("zero").enable(
    [
        "emphasis",
        "link",
        "autolink",
        "blockquote",
        "backticks",
        "fence",
        "code",
        "list",
        "newline",
        "escape",
        "strikethrough",
    ]
)


def clean_comment_html(raw: str) -> str:
    """Sanitize a comment body: the comment allow-list, links nofollow ugc noopener."""
    return nh3.clean(
        raw,
        tags=COMMENT_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow ugc noopener",
    )


def comment_markdown_to_html(text: str) -> str:
    """Render a comment's Markdown subset (no raw HTML, no images, no headings)."""
    return clean_comment_html(_comment_md.render(text or ""))
