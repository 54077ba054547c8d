"""A small HTML scanner shared by the WordPress importers (wpautop, shortcodes, embeds).

It splits text into four kinds of segment, left to right, without building a tree:

- ``comment``: ``<!-- … -->`` or ``<![CDATA[ … ]]>`` (an unterminated one runs to the end);
- ``raw``: a whole element whose content is not markup to us, from its opening tag to its
  closing tag (or the end of the text), e.g. ``<pre>``: which names count is the caller's choice;
- ``tag``: any other opening, closing or self-closing tag (``<`` must be followed by a letter or
  ``/`` and a letter, so "a < b" and "<3" stay text);
- ``text``: everything else.

Joining the segments' ``raw`` strings gives back the input exactly.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

AUTOP_RAW = ("pre", "script", "style", "svg")
SHORTCODE_RAW = ("pre", "code", "script", "style", "svg", "textarea")


class Segment(NamedTuple):
    kind: str  # "text" | "tag" | "comment" | "raw"
    name: str  # lower-case element name for "tag" and "raw"; "" otherwise
    raw: str


@lru_cache(maxsize=8)
def _scanner(raw_names: tuple[str, ...]) -> re.Pattern[str]:
    names = "|".join(raw_names)
    return re.compile(  # one leading "<" so that the regex engine can skip through text fast
        r"<(?:(?P<comment>!--.*?(?:-->|\Z)|!\[CDATA\[.*?(?:\]\]>|\Z))"
        rf"|(?P<raw>(?P<rawname>{names})(?=[\s>])[^<>]*(?<!/)>.*?(?:</(?P=rawname)\s*>|\Z))"
        r"|(?P<tag>/?[a-zA-Z][^<>]*>))",
        re.DOTALL | re.IGNORECASE,
    )


_NAME = re.compile(r"</?([a-zA-Z][a-zA-Z0-9:-]*)")


def tag_name(tag: str) -> str:
    """The lower-case element name of a tag like ``<Div class=x>`` or ``</p>``."""
    m = _NAME.match(tag)
    return m.group(1).lower() if m else ""


def segments(text: str, raw_names: tuple[str, ...] = AUTOP_RAW) -> list[Segment]:
    """Split `text` into text, tag, comment and raw-element segments (see the module docstring)."""
    out: list[Segment] = []
    pos = 0
    for m in _scanner(raw_names).finditer(text):
        if m.start() > pos:
            out.append(Segment("text", "", text[pos : m.start()]))
        if m.group("comment") is not None:
            out.append(Segment("comment", "", m.group(0)))
        elif m.group("raw") is not None:
            out.append(Segment("raw", m.group("rawname").lower(), m.group(0)))
        else:
            out.append(Segment("tag", tag_name(m.group(0)), m.group(0)))
        pos = m.end()
    if pos < len(text):
        out.append(Segment("text", "", text[pos:]))
    return out


TAG_MASK = "\x01"
HIDDEN_MASK = "\x00"


@lru_cache(maxsize=16)
def mask(text: str, raw_names: tuple[str, ...] = SHORTCODE_RAW) -> str:
    """`text` with tags blanked to \\x01 and comments/raw elements to \\x00, same length."""
    parts = []
    for seg in segments(text, raw_names):
        if seg.kind == "text":
            parts.append(seg.raw)
        elif seg.kind == "tag":
            parts.append(TAG_MASK * len(seg.raw))
        else:
            parts.append(HIDDEN_MASK * len(seg.raw))
    return "".join(parts)
