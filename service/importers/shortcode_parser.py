"""Finding WordPress shortcodes in post content, without WordPress's registry of tags.

Syntax, as WordPress reads it: ``[name attrs]``; self-closing ``[name attrs /]``; enclosing
``[name attrs]content[/name]`` (the content runs to the first ``[/name]``; a ``[name]`` with no
closing tag later is self-closing); escaped ``[[name …]]``, which shows as the literal
``[name …]``. Attributes are ``key="v"``, ``key='v'``, ``key=v`` or positional ``"v"``, ``'v'``,
``v``; keys are lower-cased, and no-break or zero-width spaces count as spaces.

Which bracketed text is a shortcode (WordPress asks its registry; an importer has none):

1. the name must look like a tag: a lower-case ASCII letter, then lower-case letters, digits,
   ``_`` or ``-``, followed by whitespace, ``]`` or ``/``;
2. a known tag (WordPress core's, or a common plugin's: ``KNOWN_TAGS``, ``KNOWN_PREFIXES``) is
   always a shortcode, even bare, like ``[gallery]``;
3. any other tag-like name is a shortcode only with evidence that it is one: a ``key=value``
   attribute, the self-closing ``/]``, or a matching ``[/name]`` further on.

So "[sic]", "[1]", "[citation needed]", "[simple boat]", "[Editor's note: …]" and "[x]" stay
text, while ``[contact-form-7 id="5"]``, ``[foo /]`` and ``[note]…[/note]`` are shortcodes.
Text inside HTML tags, comments, ``<pre>``, ``<code>``, ``<script>``, ``<style>``, ``<svg>`` and
``<textarea>`` is never read for shortcodes (it is code or an attribute, not prose).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Container, Iterator
from dataclasses import dataclass, field

from service.importers.htmlscan import mask

CORE_TAGS = frozenset({"audio", "caption", "embed", "gallery", "playlist", "video", "wp_caption"})
KNOWN_TAGS = CORE_TAGS | frozenset(
    {
        "contact-form",
        "contact-form-7",
        "wpforms",
        "gravityform",
        "ninja_form",
        "mc4wp_form",
        "mailpoet_form",
        "jetpack_subscription_form",
        "blog_subscription_form",
        "subscribe2",
        "toc",
        "ez-toc",
        "woocommerce_cart",
        "woocommerce_checkout",
        "woocommerce_my_account",
        "nggallery",
        "slideshow",
        "rev_slider",
        "metaslider",
        "tablepress",
        "wp_sitemap_page",
        "youtube",
        "vimeo",
        "dailymotion",
        "soundcloud",
        "spotify",
        "tweet",
        "instagram",
        "tiktok",
        "googlemaps",
        "polldaddy",
        "crowdsignal",
    }
)
KNOWN_PREFIXES = (
    "vc_",
    "et_pb_",
    "fusion_",
    "su_",
    "woocommerce_",
    "av_",
    "ux_",
    "tve_",
    "themify_",
    "wpb_",
    "ngg_",
    "elementor",
)

_OPENER = re.compile(
    r"\[(?P<esc>\[?)(?P<name>[a-z][a-z0-9_-]*)(?=[\s\]/])"
    r"(?P<attrs>[^\[\]/\x00]*(?:/(?!\])[^\[\]/\x00]*)*)"
    r"(?P<selfclose>/)?\]"
)
_CLOSER = re.compile(r"\[/(?P<name>[a-z][a-z0-9_-]*)\]")
_KEY_VALUE = re.compile(r"""\s[a-zA-Z_][\w-]*=(?:"[^"]*"|'[^']*'|[^\s"'\]]+)""")
_ATTR = re.compile(
    r"""
    (?P<key>[\w-]+) \s*=\s* (?: "(?P<dq>[^"]*)" | '(?P<sq>[^']*)' | (?P<bare>[^\s"']+) ) (?=\s|$)
  | "(?P<pdq>[^"]*)" (?=\s|$)
  | '(?P<psq>[^']*)' (?=\s|$)
  | (?P<word>\S+)
""",
    re.VERBOSE,
)
_ODD_SPACES = re.compile("[\u00a0\u200b]")
_SPACE = r"(?:[\r\n\t ]|\u00a0|&nbsp;)"
_P_BEFORE = re.compile(rf"<p>{_SPACE}*\Z")
_P_AFTER = re.compile(rf"{_SPACE}*</p>\n?")  # used with .match(text, pos)


@dataclass(frozen=True)
class Shortcode:
    """One shortcode found in a text, with where it is (``start``/``end`` index the text)."""

    name: str
    attrs: dict[str, str] = field(default_factory=dict)
    positional: tuple[str, ...] = ()
    content: str | None = None  # None: no closing tag
    start: int = 0
    end: int = 0
    content_start: int = 0  # where the content (if any) begins: the opening tag's end
    escaped: bool = False  # [[name]]: shown as the literal text[start + 1:end - 1]
    prefix: str = ""  # a lone "[" before it (as in "[[name]"), kept as text
    suffix: str = ""  # a lone "]" after it, kept as text


def is_known(name: str) -> bool:
    """Whether `name` is a shortcode tag we know of, so it counts even without attributes."""
    return name in KNOWN_TAGS or name.startswith(KNOWN_PREFIXES)


def parse_attributes(text: str) -> tuple[dict[str, str], list[str]]:
    """Parse a shortcode's attribute text into named (lower-case keys) and positional values."""
    named: dict[str, str] = {}
    positional: list[str] = []
    for m in _ATTR.finditer(_ODD_SPACES.sub(" ", text)):
        if m["key"] is not None:
            named[m["key"].lower()] = next(
                v for v in (m["dq"], m["sq"], m["bare"]) if v is not None
            )
        elif value := m["pdq"] or m["psq"] or m["word"]:  # an empty "" is dropped
            positional.append(value)
    return named, positional


def _closer_index(masked: str) -> dict[str, list[int]]:
    index: dict[str, list[int]] = {}
    for m in _CLOSER.finditer(masked):
        index.setdefault(m["name"], []).append(m.start())
    return index


def _accepts(m: re.Match[str], has_closer: bool, names: Container[str] | None) -> bool:
    name = m["name"]
    if names is not None:
        return name in names
    if is_known(name):
        return True
    return bool(m["selfclose"] or has_closer or _KEY_VALUE.search(m["attrs"]))


def iter_shortcodes(text: str, names: Container[str] | None = None) -> Iterator[Shortcode]:
    """Yield the top-level shortcodes in `text`, left to right (only `names`, if given)."""
    masked = mask(text)
    closers = _closer_index(masked)
    pos = 0
    while m := _OPENER.search(masked, pos):
        ends = [] if m["selfclose"] else closers.get(m["name"], [])
        i = bisect.bisect_left(ends, m.end())
        close_at = ends[i] if i < len(ends) else None
        if not _accepts(m, close_at is not None, names):
            pos = m.start() + 1
            continue
        end = m.end() if close_at is None else close_at + len(m["name"]) + 3
        trailing = int(masked.startswith("]", end))
        escaped = bool(m["esc"] and trailing)
        attrs, positional = parse_attributes(text[m.start("attrs") : m.end("attrs")])
        yield Shortcode(
            m["name"],
            attrs,
            tuple(positional),
            None if close_at is None else text[m.end() : close_at],
            m.start(),
            end + trailing,
            m.end(),
            escaped,
            "[" if m["esc"] and not escaped else "",
            "]" if trailing and not escaped else "",
        )
        pos = end + trailing


def find_shortcodes(text: str, names: Container[str] | None = None) -> list[Shortcode]:
    """The top-level shortcodes in `text` (see the module docstring for what counts)."""
    return list(iter_shortcodes(text, names))


def replace_shortcodes(
    text: str,
    render: Callable[[Shortcode], str],
    names: Container[str] | None = None,
    *,
    keep_escaped: bool = False,
) -> str:
    """Replace each top-level shortcode by ``render(shortcode)``; escaped ones become literal.

    With `keep_escaped`, ``[[name]]`` is left as it is (for a later pass to unescape). Without
    `names`, closing tags with no opening tag (``[/caption]`` on its own) are dropped too, when
    their name is known or is a shortcode elsewhere in the text.
    """
    found = find_shortcodes(text, names)
    masked = mask(text) if names is None else ""
    seen = {sc.name for sc in found}

    def between(start: int, end: int) -> str:
        return _drop_orphans(text, masked, start, end, seen) if masked else text[start:end]

    out: list[str] = []
    pos = 0
    for sc in found:
        out.append(between(pos, sc.start))
        if sc.escaped:
            out.append(text[sc.start : sc.end] if keep_escaped else text[sc.start + 1 : sc.end - 1])
        else:
            out.append(sc.prefix + render(sc) + sc.suffix)
        pos = sc.end
    out.append(between(pos, len(text)))
    return "".join(out)


def _drop_orphans(text: str, masked: str, start: int, end: int, seen: set[str]) -> str:
    """``text[start:end]`` without closing tags of shortcodes (known, or `seen`) that close nothing."""
    parts = []
    for m in _CLOSER.finditer(masked, start, end):
        if m["name"] in seen or is_known(m["name"]):
            parts.append(text[start : m.start()])
            start = m.end()
    return "".join(parts) + text[start:end]


def shortcode_unautop(html: str, names: Container[str] | None = None) -> str:
    """Unwrap shortcodes that stand alone in a ``<p>`` (what WordPress's shortcode_unautop does)."""
    out: list[str] = []
    pos = 0
    for sc in iter_shortcodes(html, names):
        before = html[pos : sc.start]
        after = _P_AFTER.match(html, sc.end) if not (sc.escaped or sc.prefix) else None
        lead = _P_BEFORE.search(before) if after else None
        if lead and after:
            out.append(before[: lead.start()])
            out.append(html[sc.start : sc.end])
            pos = after.end()
        else:
            out.append(html[pos : sc.end])
            pos = sc.end
    out.append(html[pos:])
    return "".join(out)
