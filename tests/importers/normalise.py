"""Comparing HTML the way the wpautop tests need: loose about layout, strict about structure."""

from __future__ import annotations

import re

from service.importers.wpautop import BLOCKS

_PRE = re.compile(r"(<pre(?=[\s>])[^<>]*>.*?</pre\s*>)", re.DOTALL | re.IGNORECASE)
_BR = re.compile(r"\s*<br\s*/?>\s*", re.IGNORECASE)
_BLOCK_NAMES = "|".join(sorted(BLOCKS))
_AROUND_BLOCK = re.compile(rf"\s*(</?(?:{_BLOCK_NAMES})(?=[\s/>])[^<>]*>)\s*", re.IGNORECASE)


def normalise(html: str) -> str:
    """Drop whitespace next to block tags and around <br>, spell <br> one way; keep <pre> exact.

    Paragraph boundaries survive (``<p>`` tags are kept as they are), and everything between
    ``<pre>`` and ``</pre>`` is compared byte for byte.
    """
    parts = _PRE.split(html)
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(part)
        else:
            out.append(_AROUND_BLOCK.sub(r"\1", _BR.sub("<br>", part)).strip())
    return "".join(out)
