"""Whether a reader's reply asks not to be published ("this is just for you").

Replying to a newsletter is, for many readers, writing a letter to its writer. Privacy is the
default (nothing is published before the reader says so), and a reply that says in words that
it is private stays private even when the reader has chosen to publish their replies.
"""

from __future__ import annotations

import re

_PHRASES = (
    # English
    (
        r"\b(?:don[’']?t|do\s+not|never|please\s+not)\s+(?:publish|post|share|print)\s+"
        r"(?:this|it|that|my\s+(?:reply|letter|note|message|words|email))\b"
    ),
    r"\bnot\s+for\s+(?:publication|publishing|the\s+comments|sharing)\b",
    r"\b(?:just|only)\s+(?:for|between)\s+(?:you|us)\b",
    r"\boff\s+the\s+record\b",
    r"\b(?:keep|keeping)\s+(?:this|it)\s+(?:private|between\s+us)\b",
    r"\bprivate\s+(?:note|message|reply|letter)\b",
    # German
    r"\b(?:bitte|das|dies|es)\s+nicht\s+(?:veröffentlichen|posten)\b",
    r"\bnur\s+für\s+(?:dich|sie|euch)\b",
    # French
    r"\bne\s+(?:pas\s+(?:le\s+|la\s+)?publier|(?:le\s+|la\s+)?publiez\s+pas)\b",
    r"\b(?:juste|seulement|uniquement)\s+pour\s+(?:vous|toi)\b",
    # Spanish, Italian
    r"\bno\s+lo\s+publi(?:ques|quen)\b",
    r"\bnon\s+(?:lo\s+)?pubblicar(?:e|lo)\b",
)
_PRIVATE = re.compile("|".join(_PHRASES), re.IGNORECASE)


def wants_private(text: str) -> bool:
    """Whether the reader's own words ask for the reply to stay private."""
    return _PRIVATE.search(" ".join((text or "").split())) is not None
