"""Cheap, deterministic spam guards run in the request: honeypot, signed time trap, link count.

A post that trips the honeypot or the time trap is bot-like: it is stored as spam for review
(never silently dropped) and the sender gets a calm answer. Too many links is a plain limit the
reader can fix, so it is refused with a message instead.
"""

from __future__ import annotations

import re
from datetime import datetime

from service.core import settings, tokens
from service.models.base import utcnow

#: The honeypot input's name: hidden from people (CSS and aria-hidden), filled in by bots.
HONEYPOT_FIELD = "homepage"
STAMP_PURPOSE = "comment-form"
STAMP_MAX_AGE = 7 * tokens.DAY
_LINK = re.compile(r"(?i)(?:\bhttps?://|(?<![/\w.])www\.)")


def form_stamp(issue_id: int, now: datetime | None = None) -> str:
    """A signed record of when the comment form for `issue_id` was rendered."""
    moment = now or utcnow()
    return tokens.make(STAMP_PURPOSE, {"i": issue_id, "ms": int(moment.timestamp() * 1000)})


def stamp_reason(stamp: str, issue_id: int, now: datetime | None = None) -> str | None:
    """Why the form stamp looks bot-like (missing, forged, foreign, too fast), or None."""
    if not stamp:
        return "time trap: the form stamp is missing"
    try:
        payload = tokens.read(STAMP_PURPOSE, stamp, max_age=STAMP_MAX_AGE)
    except tokens.TokenError as exc:
        return f"time trap: the form stamp is not valid ({exc})"
    if not isinstance(payload, dict) or payload.get("i") != issue_id:
        return "time trap: the form stamp belongs to another page"
    elapsed = (now or utcnow()).timestamp() - int(payload.get("ms", 0)) / 1000
    minimum = float(settings.get("comments.min_seconds"))
    if elapsed < minimum:
        return (
            f"time trap: posted {max(elapsed, 0):.1f} s after the form was shown "
            f"(minimum {minimum:g} s)"
        )
    return None


def honeypot_reason(value: str) -> str | None:
    """Why the honeypot looks bot-like (someone filled the invisible field), or None."""
    return "honeypot: the hidden field was filled in" if value.strip() else None


def bot_reasons(honeypot: str, stamp: str, issue_id: int, now: datetime | None = None) -> list[str]:
    """Every bot-like sign of one post; empty when it looks like a person."""
    reasons = [honeypot_reason(honeypot), stamp_reason(stamp, issue_id, now)]
    return [reason for reason in reasons if reason]


def count_links(text: str) -> int:
    """How many web links a comment body contains (http(s):// or bare www.)."""
    return len(_LINK.findall(text or ""))


def links_problem(text: str) -> str | None:
    """A message for the reader when the body has more links than allowed, else None."""
    limit = int(settings.get("comments.max_links"))
    found = count_links(text)
    if found > limit:
        return f"Your comment contains {found} links; at most {limit} are allowed."
    return None
