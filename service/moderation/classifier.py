"""A naive Bayes spam classifier that learns from moderator decisions.

Each comment becomes a set of tokens (body words, name words, website and link domains). The
database keeps, per token, how many spam and ham comments contained it; training adds or
removes one comment with atomic `count = count + delta` upserts, so several workers and web
processes can train at once. Each token's spam probability is Robinson's smoothed estimate (rare
tokens stay near 0.5); the strongest clues are combined as naive Bayes log-odds into a score
near 1 for spam, near 0 for ham. The classifier never approves; above a threshold chosen in
bench/classifier.py it may mark spam, and it stays silent until it has seen enough of both.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import delete, select

from service.core.db import upsert_add
from service.extensions import db
from service.models import (
    ClassifierToken,
    ClassifierTraining,
    Comment,
    CommentKind,
    CommentStatus,
)

TOTALS = "__documents__"
LABELS = ("spam", "ham")
_WORD = re.compile(r"[^\W_][\w'$€£.-]*[^\W_]|[$€£]", re.UNICODE)
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"')\]]+", re.IGNORECASE)
_STRENGTH, _PRIOR = 0.45, 0.5  # Robinson's s and x
_MAX_DISCRIMINATORS = 20  # the strongest clues only, as in Graham's "A Plan for Spam"
_MIN_DISTANCE = 0.1


@dataclass(frozen=True)
class Score:
    probability: float  # 0 = ham, 1 = spam
    trained: bool  # enough spam and ham seen to act on the score
    clues: tuple[tuple[str, float], ...] = ()


def hostname(url: str) -> str:
    """The lower-case host of a URL or a bare www. address ('' when there is none)."""
    url = url.strip()
    if not url:
        return ""
    if "://" not in url:
        url = "http://" + url
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


def link_hosts(text: str) -> list[str]:
    """The hosts of every link (including bare URLs) in a text."""
    return [h for h in (hostname(m.group(0)) for m in _URL.finditer(text or "")) if h]


def tokens(comment: Comment) -> set[str]:
    """The features of one comment: body words, name words, website and link domains."""
    body = comment.body_md or ""
    found: set[str] = set()
    for word in _WORD.findall(_URL.sub(" ", body).lower()):
        found.add(word if len(word) <= 24 else f"long:{len(word) // 10}")
    for word in _WORD.findall((comment.author_name or "").lower()):
        found.add(f"name:{word[:60]}")
    site = hostname(comment.author_url or "")
    found.add(f"site:{site[:70]}" if site else "site:none")
    if site:
        found.add(f"tld:{site.rsplit('.', 1)[-1][:20]}")
    hosts = link_hosts(body)
    for host in hosts:
        found.add(f"link:{host[:70]}")
    found.add(f"links:{min(len(hosts), 3)}")
    domain = (comment.author_email or "").rpartition("@")[2].lower()
    if domain:
        found.add(f"email:{domain[:70]}")
    return found


def _upsert(rows: list[dict]) -> None:
    """Add each row's spam/ham deltas to its token, atomically (insert or count = count + d)."""
    if rows:
        db.session.execute(upsert_add(ClassifierToken.__table__, "token", ("spam", "ham")), rows)


def _apply(features: Iterable[str], label: str, sign: int) -> None:
    spam, ham = (sign, 0) if label == "spam" else (0, sign)
    # Sorted, so that concurrent trainers lock rows in the same order (no deadlocks).
    rows = [{"token": t, "spam": spam, "ham": ham} for t in sorted(set(features) | {TOTALS})]
    _upsert(rows)


def learn(comment: Comment, label: str | None, old_features: set[str] | None = None) -> bool:
    """Make the counts reflect `label` ('spam', 'ham' or None) for this comment.

    Runs in the caller's transaction. `old_features` are the comment's tokens as they were
    trained (before an edit); returns True when the counts changed.
    """
    mark = db.session.get(ClassifierTraining, comment.id)
    current = mark.label if mark else None
    features = tokens(comment)
    if current == label and (old_features is None or old_features == features):
        return False
    if current is not None:
        _apply(old_features if old_features is not None else features, current, -1)
    if label is None:
        if mark is not None:
            db.session.execute(
                delete(ClassifierTraining).where(ClassifierTraining.comment_id == comment.id)
            )
        return True
    _apply(features, label, +1)
    if mark is None:
        db.session.add(ClassifierTraining(comment_id=comment.id, label=label))
    else:
        mark.label = label
    db.session.flush()
    return True


def _counts(features: set[str]) -> dict[str, tuple[int, int]]:
    rows = db.session.execute(
        select(ClassifierToken.token, ClassifierToken.spam, ClassifierToken.ham).where(
            ClassifierToken.token.in_(sorted(features | {TOTALS}))
        )
    ).all()
    return {token: (spam, ham) for token, spam, ham in rows}


def token_probability(spam: int, ham: int, nspam: int, nham: int) -> float:
    """Robinson's f(w): the spam probability of a token, pulled towards 0.5 when rare."""
    spam_ratio = spam / nspam if nspam else 0.0
    ham_ratio = ham / nham if nham else 0.0
    if spam_ratio + ham_ratio == 0:
        return _PRIOR
    p = spam_ratio / (spam_ratio + ham_ratio)
    n = spam + ham
    return (_STRENGTH * _PRIOR + n * p) / (_STRENGTH + n)


def combine(probabilities: list[float]) -> float:
    """Naive Bayes: add the tokens' log-odds and turn the sum back into a probability."""
    total = sum(math.log(max(1e-6, p) / max(1e-6, 1.0 - p)) for p in probabilities)
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, total))))


def score_features(
    features: set[str], counts: dict[str, tuple[int, int]], min_trained: int
) -> Score:
    """Score a token set against token counts (pure: used by score() and the benchmark)."""
    nspam, nham = counts.get(TOTALS, (0, 0))
    clues = []
    for token in features:
        spam, ham = counts.get(token, (0, 0))
        if spam + ham == 0:
            continue
        prob = token_probability(spam, ham, nspam, nham)
        if abs(prob - 0.5) >= _MIN_DISTANCE:
            clues.append((token, prob))
    clues.sort(key=lambda c: abs(c[1] - 0.5), reverse=True)
    clues = clues[:_MAX_DISCRIMINATORS]
    probability = combine([p for _, p in clues])
    trained = nspam >= min_trained and nham >= min_trained
    return Score(probability=probability, trained=trained, clues=tuple(clues[:8]))


def score(comment: Comment, min_trained: int = 10) -> Score:
    """The spam probability of a comment from the stored counts."""
    features = tokens(comment)
    return score_features(features, _counts(features), min_trained)


def stats() -> tuple[int, int]:
    """How many spam and ham comments the classifier has learned from."""
    row = db.session.get(ClassifierToken, TOTALS)
    return (row.spam, row.ham) if row else (0, 0)


def train_from_history(batch: int = 500) -> tuple[int, int]:
    """Learn every approved (ham) and spam comment not learned yet; return (spam, ham) added."""
    added = [0, 0]
    last_id = 0
    while True:
        comments = db.session.scalars(
            select(Comment)
            .outerjoin(ClassifierTraining, ClassifierTraining.comment_id == Comment.id)
            .where(
                ClassifierTraining.comment_id.is_(None),
                Comment.id > last_id,
                Comment.kind == CommentKind.COMMENT,
                Comment.status.in_((CommentStatus.APPROVED, CommentStatus.SPAM)),
            )
            .order_by(Comment.id)
            .limit(batch)
        ).all()
        if not comments:
            return added[0], added[1]
        for comment in comments:
            label = "spam" if comment.status == CommentStatus.SPAM else "ham"
            learn(comment, label)
            added[0 if label == "spam" else 1] += 1
        last_id = comments[-1].id
        db.session.commit()
