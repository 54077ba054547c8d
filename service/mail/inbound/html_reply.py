"""The reader's own words from an HTML reply, as the comments' Markdown subset.

No maintained library cuts quotes and signatures from HTML well (see the comparison in the
README), so this removes what clients are known to write — Gmail's div.gmail_quote and
gmail_signature, Apple Mail's and Fastmail's blockquote type=cite, Outlook's hr +
div#divRplyFwdMsg, Thunderbird's moz-cite-prefix, Yahoo's yahoo_quoted, and a generic
"On … wrote:" line before a blockquote — then converts what is left with markdownify (MIT),
treating a <div> as a line and an empty <div><br></div> as a paragraph break, as webmail
composers mean them.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, NavigableString, Tag
from markdownify import MarkdownConverter

from service.mail.inbound import text_rules

#: Where the quoted history starts: it and everything after it goes.
QUOTE_STARTS = [
    "div.gmail_quote",
    "div.gmail_quote_container",
    "div#appendonsend",
    "div#divRplyFwdMsg",
    "div#mail-editor-reference-message-container",
    "div.moz-cite-prefix",
    "div.yahoo_quoted",
    "div.OutlookMessageHeader",
    "blockquote#qt",
    'blockquote[type="cite"]',
]
#: Signatures and clutter that go wherever they are.
REMOVE = [
    "head",
    "style",
    "script",
    "title",
    "img",
    "span.gmail_signature_prefix",
    "div.gmail_signature",
    "[data-smartmail=gmail_signature]",
    "div.moz-signature",
    "div#Signature",
    "div#ms-outlook-mobile-signature",
    "div.ms-outlook-mobile-signature",
    "div#AppleMailSignature",
]


def _cut_from(node: Tag) -> None:
    """Remove `node` and everything after it in document order."""
    current: Tag | None = node
    while current is not None and current.name != "[document]":
        for sibling in list(current.next_siblings):
            sibling.extract()
        current = current.parent
    node.extract()


def _attribution_before(quote: Tag) -> Tag | None:
    """The element holding an "On … wrote:" line just before `quote`, if there is one."""
    previous = quote.find_previous_sibling()
    while previous is not None and not previous.get_text(strip=True):
        previous = previous.find_previous_sibling()
    if previous is not None and text_rules.is_attribution(previous.get_text(" ", strip=True)):
        return previous
    return None


def _quote_start(soup: BeautifulSoup) -> Tag | None:
    """The first element where the quoted history begins, in document order."""
    starts = [el for selector in QUOTE_STARTS for el in soup.select(selector)]
    for blockquote in soup.find_all("blockquote"):
        if _attribution_before(blockquote) is not None:
            starts.append(blockquote)
    if not starts:
        return None
    order = {id(el): n for n, el in enumerate(soup.find_all(True))}
    first = min(starts, key=lambda el: order.get(id(el), 0))
    if first.name == "div" and first.get("id") == "divRplyFwdMsg":
        rule = first.find_previous_sibling()
        first = rule if rule is not None and rule.name == "hr" else first
    return _attribution_before(first) or first


def _drop_mobile_signatures(soup: BeautifulSoup) -> None:
    for element in soup.find_all(["div", "p", "span"]):
        if text_rules.is_mobile_signature(element.get_text(" ", strip=True)):
            element.extract()


class _ReplyConverter(MarkdownConverter):
    """markdownify, with webmail's line-per-div layout and bare URLs for self-named links."""

    def convert_div(self, el, text, parent_tags):
        if "_inline" in parent_tags:
            return " " + text.strip() + " "
        if not text.strip():
            return "\n\n" if el.find("br") is not None else ""
        return "\n" + text.strip() + "\n"

    def convert_br(self, el, text, parent_tags):
        return " " if "_inline" in parent_tags else "\n"

    def convert_a(self, el, text, parent_tags):
        href = str(el.get("href") or "").strip()
        shown = text.replace(r"\_", "_").strip()
        if not href or not shown or "_noformat" in parent_tags:
            return text
        if href.lower().startswith("mailto:") and shown == href[7:]:
            return shown
        if shown == href or shown.rstrip("/") == href.rstrip("/"):
            return href
        target = f"<{href}>" if any(c in href for c in " ()<>") else href
        before = " " if text[:1].isspace() else ""
        after = " " if text[-1:].isspace() else ""
        return f"{before}[{text.strip()}]({target}){after}"

    def convert_hN(self, n, el, text, parent_tags):
        return "\n\n" + text.strip() + "\n\n"

    def convert_hr(self, el, text, parent_tags):
        return "\n\n"


_CONVERTER = _ReplyConverter(bullets="-", strong_em_symbol="*", heading_style="atx")


def reply_markdown(markup: str) -> str:
    """The reader's own text of an HTML reply, as Markdown ('' when nothing is left)."""
    soup = BeautifulSoup(markup, "html.parser")
    for selector in REMOVE:
        for element in soup.select(selector):
            element.extract()
    start = _quote_start(soup)
    if start is not None:
        _cut_from(start)
    _drop_mobile_signatures(soup)
    for text in soup.find_all(string=True):
        if isinstance(text, NavigableString) and "\ufeff" in text:
            text.replace_with(text.replace("\ufeff", ""))
    return text_rules.tidy(_CONVERTER.convert_soup(soup))


def plain_to_html(text: str) -> str:
    """A plain-text body part inside an HTML reading (rare mixes), as escaped HTML lines."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return "<div>" + re.sub(r"\n", "<br>", escaped) + "</div>"
