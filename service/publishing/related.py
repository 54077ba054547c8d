"""Related issues: same category, similar words, worked out once per process per ten minutes."""

from __future__ import annotations

import math
import re
from collections import Counter

from sqlalchemy import select

from service.core import recent
from service.extensions import db
from service.models import Issue, IssueStatus
from service.publishing.queries import published_issues

_WORD = re.compile(r"[a-z][a-z'’]{3,}")
#: Words too common to say what an issue is about.
STOPWORDS = {
    "that",
    "this",
    "with",
    "have",
    "from",
    "they",
    "them",
    "their",
    "there",
    "what",
    "when",
    "which",
    "would",
    "about",
    "were",
    "been",
    "into",
    "more",
    "some",
    "than",
    "then",
    "your",
    "just",
    "like",
    "also",
    "only",
    "very",
    "because",
    "being",
    "those",
    "these",
    "other",
    "does",
    "doesn’t",
    "don’t",
    "don't",
    "it's",
    "it’s",
    "i’m",
    "i'm",
    "you’re",
    "you're",
    "think",
    "people",
}


def _terms(text: str) -> Counter:
    return Counter(w for w in _WORD.findall(text.lower()) if w not in STOPWORDS)


def _cosine(a: Counter, b: Counter) -> float:
    common = set(a) & set(b)
    dot = sum(a[w] * b[w] for w in common)
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm if norm else 0.0


#: Related issues are worked out at most this often per process (they only change when issues
#: are published or edited, and reading every candidate's text on each page view would not scale).
RELATED_SECONDS = 600


def related(issue: Issue, limit: int = 3, candidates: int = 300) -> list[Issue]:
    """Up to `limit` published issues most like this one: same category, similar words."""
    ids = recent.get(
        f"related:{issue.id}:{limit}",
        lambda: _related_ids(issue, limit, candidates),
        max_age=RELATED_SECONDS,
    )
    if not ids:
        return []
    found = {
        other.id: other for other in db.session.scalars(published_issues().where(Issue.id.in_(ids)))
    }
    return [found[i] for i in ids if i in found]  # one unpublished since: left out


def _related_ids(issue: Issue, limit: int, candidates: int) -> list[int]:
    others = db.session.execute(
        select(
            Issue.id,
            Issue.title,
            Issue.excerpt,
            Issue.body_html,
            Issue.category_id,
            Issue.published_at,
        )
        .where(Issue.status == IssueStatus.PUBLISHED, Issue.id != issue.id)
        .order_by(Issue.published_at.desc(), Issue.id.desc())
        .limit(candidates)
    ).all()
    mine = _terms(issue.title + " " + issue.excerpt + " " + issue.body_html)
    scored = []
    for other in others:
        score = _cosine(mine, _terms(other.title + " " + other.excerpt + " " + other.body_html))
        if issue.category_id and other.category_id == issue.category_id:
            score += 0.5
        if score > 0.05:
            scored.append((score, other.published_at, other.id))
    scored.sort(key=lambda t: (t[0], t[1]), reverse=True)
    return [other_id for _, _, other_id in scored[:limit]]
