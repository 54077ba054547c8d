"""Precision and recall of the spam classifier on a time-ordered split of a labelled corpus.

    .venv/bin/python bench/classifier.py [--size 6000] [--seed 7]

WHERE THE DATA COMES FROM: no public labelled comment-spam corpus could be installed here (the
machine reaches only package registries, and no PyPI package we found ships one), so this
script builds a SYNTHETIC corpus, seeded and reproducible:
- ham: reader comments assembled from the sentences of the five seed essays in
  ../shared/seeds (with words dropped at random, so no comment repeats a sentence whole),
  everyday openers, questions, short "great post!" replies, occasional links to ordinary sites,
  plus the 33 real reader comments of ../shared/fixtures/seed-blog.json;
- spam: templates of the usual blog-comment campaigns (pharmacy, casino, SEO, crypto, replicas,
  loans, essay mills, flattery with a link), whose domains, names and mixture change month by
  month, and a share of "hard" spam that is only flattery and a website.
Comments get times spread over one year. The classifier trains on the first 55%, the auto-spam
threshold is chosen on the next 15% (lowest score with >= 99.5% precision there), then it
trains on the first 70% and is measured on the last 30% -- later campaigns and new domains it
has not seen. Real spam is more varied: treat the figures as an upper bound and watch the
moderators' "not spam" corrections in production.
"""

from __future__ import annotations

import argparse
import html
import json
import random
import re
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from service.core.settings import DEFAULTS
from service.moderation.classifier import TOTALS, score_features, tokens

SHARED = ROOT.parent / "shared"
FIRST = [
    "Anna",
    "Ben",
    "Chloe",
    "Dev",
    "Elena",
    "Farid",
    "Grace",
    "Hugo",
    "Ines",
    "Jon",
    "Kemi",
    "Lars",
    "Mia",
    "Noor",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sam",
    "Tomas",
    "Uma",
    "Vik",
    "Wen",
    "Yara",
    "Zoe",
    "Steve",
    "Jeff",
    "Amber",
    "Kate",
    "Luis",
]
LAST = [
    "Smith",
    "Okafor",
    "Müller",
    "Rossi",
    "Tanaka",
    "Nguyen",
    "Silva",
    "Cohen",
    "Novak",
    "Brown",
    "Dubois",
    "Khan",
    "Lee",
]
OPENERS = [
    "I agree.",
    "Great point.",
    "Thanks for writing this.",
    "Not sure I agree.",
    "This resonates.",
    "Interesting take.",
    "Well said.",
    "Hmm.",
    "So true.",
    "I've seen this too.",
    "Funny, I was thinking the same this morning.",
    "Spot on.",
    "A fair critique.",
    "Respectfully, I see it differently.",
]
SHORT_HAM = [
    "Great post!",
    "Thanks, loved this.",
    "So true.",
    "Brilliant, thank you.",
    "This made my day.",
    "Bookmarking this one.",
    "Well put!",
    "Nice post, thanks.",
]
HAM_SITES = [
    "en.wikipedia.org",
    "github.com",
    "nytimes.com",
    "medium.com",
    "bbc.co.uk",
    "hbr.org",
    "youtube.com",
    "substack.com",
]
CAMPAIGNS = {
    "pharma": [
        "cheap",
        "pills",
        "viagra",
        "cialis",
        "pharmacy",
        "prescription",
        "discount",
        "order",
        "online",
        "generic",
        "tablets",
        "no",
        "prescription",
        "needed",
        "fast",
        "shipping",
    ],
    "casino": [
        "casino",
        "bonus",
        "slots",
        "jackpot",
        "bet",
        "free",
        "spins",
        "poker",
        "roulette",
        "win",
        "big",
        "play",
        "now",
        "deposit",
    ],
    "seo": [
        "SEO",
        "backlinks",
        "ranking",
        "traffic",
        "google",
        "services",
        "website",
        "marketing",
        "agency",
        "first",
        "page",
        "guaranteed",
        "results",
    ],
    "crypto": [
        "bitcoin",
        "crypto",
        "investment",
        "profit",
        "trading",
        "forex",
        "returns",
        "guaranteed",
        "passive",
        "income",
        "wallet",
    ],
    "replica": [
        "replica",
        "watches",
        "handbags",
        "designer",
        "rolex",
        "louis",
        "cheap",
        "outlet",
        "sale",
        "authentic",
        "quality",
    ],
    "loans": [
        "loan",
        "payday",
        "credit",
        "approved",
        "cash",
        "fast",
        "instant",
        "bad",
        "credit",
        "no",
        "checks",
        "lenders",
    ],
    "essays": [
        "essay",
        "writing",
        "service",
        "assignment",
        "homework",
        "students",
        "cheap",
        "dissertation",
        "help",
        "deadline",
        "plagiarism",
        "free",
    ],
}
FLATTERY = [
    "I like your blog.",
    "Very informative article.",
    "Keep up the good work.",
    "Bookmarked!",
    "I will share this with my friends.",
    "Nice post, thank you for sharing.",
    "Great content, really helpful.",
    "I found your site on google, amazing.",
    "Your writing style is awesome.",
    "Thanks for the valuable information.",
]
COMMERCE_HAM = [
    "I bought the book online at a discount and it was worth every penny.",
    "Free advice is worth what you pay for it, but this was gold.",
    "My first loan officer said the same thing about credit and trust.",
    "We tried SEO and paid traffic for a year; the newsletter beat both.",
    "Reminds me of the casino scene in that film, everyone chasing the jackpot.",
    "Is there a cheap way to get the course? Students here can't pay much.",
    "Our agency lost its best writer over exactly this.",
]
TLDS = ["xyz", "top", "biz", "ru", "com", "info", "online", "site", "net", "shop"]
SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "zu",
    "ra",
    "ve",
    "to",
    "ni",
    "sa",
    "pe",
    "do",
    "ly",
    "qu",
    "ex",
    "ro",
    "fi",
    "na",
    "be",
]


def _domain(rng: random.Random, word: str) -> str:
    stem = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 3)))
    return (
        f"{word.lower()}-{stem}.{rng.choice(TLDS)}"
        if rng.random() < 0.6
        else f"{stem}{word.lower()}.{rng.choice(TLDS)}"
    )


def _sentences() -> list[str]:
    texts = [p.read_text() for p in sorted((SHARED / "seeds").glob("*.txt"))]
    found = []
    for text in texts:
        for s in re.split(r"(?<=[.!?])\s+", " ".join(text.split())):
            if 6 <= len(s.split()) <= 40:
                found.append(s)
    return found or ["Writing every week taught me more than any course ever did."]


def _real_comments() -> list[dict]:
    path = SHARED / "fixtures" / "seed-blog.json"
    if not path.exists():
        return []
    data = json.loads(path.read_text())
    return [c for issue in data["issues"] for c in issue["comments"] if c["kind"] == "comment"]


def _ham(rng: random.Random, sentences: list[str]) -> dict:
    name = rng.choice(FIRST) + (f" {rng.choice(LAST)}" if rng.random() < 0.6 else "")
    if rng.random() < 0.12:
        body = rng.choice(SHORT_HAM)
    else:
        parts = [rng.choice(OPENERS)] if rng.random() < 0.7 else []
        for s in rng.sample(sentences, rng.randint(1, 3)):
            words = s.split()
            keep = [w for w in words if rng.random() < 0.7] or words[:3]
            parts.append(" ".join(keep))
        if rng.random() < 0.25:
            parts.append(f"What do you think about {rng.choice(rng.choice(sentences).split())}?")
        body = " ".join(parts)
    if rng.random() < 0.06:  # hard: ordinary readers talk about money and shopping too
        body += " " + rng.choice(COMMERCE_HAM)
    if rng.random() < 0.1:
        body += f" See https://{rng.choice(HAM_SITES)}/{rng.choice(SYLLABLES)}{rng.randint(1, 99)}"
    tld = rng.choice(["com", "com", "net", "me", "info", "xyz", "site"])
    site = (
        f"https://{name.split()[0].lower()}{rng.choice(['blog', 'writes', ''])}.{tld}"
        if rng.random() < 0.3
        else ""
    )
    provider = rng.choice(["gmail.com", "outlook.com", "fastmail.com", "yahoo.com", "mail.ru"])
    email = (
        f"{name.split()[0].lower()}{rng.randint(1, 99) if rng.random() < 0.3 else ''}@{provider}"
    )
    return {"name": name, "email": email, "url": site, "body": body, "label": "ham"}


def _spam(rng: random.Random, month: int, sentences: list[str]) -> dict:
    crng = random.Random(month * 7919 + 1)  # this month's campaigns
    kinds = crng.sample(sorted(CAMPAIGNS), 3)
    kind = rng.choice(kinds)
    words = CAMPAIGNS[kind]
    domains = [_domain(random.Random(month * 131 + i), crng.choice(words)) for i in range(4)]
    domain = rng.choice(domains)
    if rng.random() < 0.10:  # hard: a short "thanks" (the words ham uses) and a website only
        body = " ".join(rng.sample(FLATTERY + SHORT_HAM, rng.randint(1, 2)))
        return {
            "name": rng.choice(FIRST),
            "email": f"{rng.choice(SYLLABLES)}{rng.randint(1, 999)}@gmail.com",
            "url": f"https://{domain}",
            "body": body,
            "label": "spam",
        }
    parts = rng.sample(FLATTERY, rng.randint(0, 2))
    pitch = rng.sample(words, rng.randint(2, 6))
    parts.append(" ".join(pitch).capitalize() + ".")
    if rng.random() < 0.35:  # camouflage: text scraped from the essays themselves
        parts.insert(0, " ".join(rng.choice(sentences).split()[: rng.randint(6, 20)]))
    for _ in range(rng.choice([0, 1, 1, 2, 3])):
        parts.append(f"https://{rng.choice(domains)}/{rng.choice(words).lower()}")
    name = " ".join(rng.sample(words, 2)).title() if rng.random() < 0.5 else rng.choice(FIRST)
    email = (
        f"{rng.choice(SYLLABLES)}{rng.randint(1, 9999)}@"
        f"{rng.choice(['gmail.com', 'mail.ru', 'yahoo.com', domain])}"
    )
    url = f"https://{domain}" if rng.random() < 0.7 else ""
    return {"name": name, "email": email, "url": url, "body": " ".join(parts), "label": "spam"}


def corpus(size: int, seed: int) -> list[dict]:
    """The synthetic corpus, ordered by time."""
    rng = random.Random(seed)
    sentences = _sentences()
    start = datetime(2025, 1, 1, tzinfo=UTC)
    items = []
    for _ in range(size):
        at = start + timedelta(seconds=rng.uniform(0, 365 * 86400))
        item = _spam(rng, at.month, sentences) if rng.random() < 0.6 else _ham(rng, sentences)
        items.append({**item, "at": at})
    for n, c in enumerate(_real_comments()):
        body = html.unescape(re.sub(r"<[^>]+>", " ", c["body_html"])).strip()
        at = start + timedelta(days=n * 365 / 34)
        items.append(
            {
                "name": c["author"],
                "email": c["email"],
                "url": c["url"] or "",
                "body": body,
                "label": "ham",
                "at": at,
            }
        )
    return sorted(items, key=lambda i: i["at"])


def features(item: dict) -> set[str]:
    comment = SimpleNamespace(
        body_md=item["body"],
        author_name=item["name"],
        author_url=item["url"],
        author_email=item["email"],
    )
    return tokens(comment)


def train(items: list[dict]) -> dict[str, list[int]]:
    counts: dict[str, list[int]] = {}
    for item in items:
        col = 0 if item["label"] == "spam" else 1
        for token in item["features"] | {TOTALS}:
            counts.setdefault(token, [0, 0])[col] += 1
    return counts


def scores(items: list[dict], counts: dict) -> list[tuple[float, str]]:
    view = {k: (v[0], v[1]) for k, v in counts.items()}
    return [(score_features(i["features"], view, 1).probability, i["label"]) for i in items]


def online_scores(items: list[dict], counts: dict) -> list[tuple[float, str]]:
    """Score each comment, then learn its label (as each moderator decision trains it)."""
    scored = []
    for item in items:
        scored.append((score_features(item["features"], counts, 1).probability, item["label"]))
        col = 0 if item["label"] == "spam" else 1
        for token in item["features"] | {TOTALS}:
            counts.setdefault(token, [0, 0])[col] += 1
    return scored


def measure(scored: list[tuple[float, str]], threshold: float) -> tuple[float, float, int, int]:
    tp = sum(1 for s, label in scored if s >= threshold and label == "spam")
    fp = sum(1 for s, label in scored if s >= threshold and label == "ham")
    spam = sum(1 for _, label in scored if label == "spam")
    precision = tp / (tp + fp) if tp + fp else 1.0
    return precision, tp / spam if spam else 0.0, tp, fp


FLOOR = 0.9  # never below: the band under it is "uncertain", held for a moderator


def choose_threshold(scored: list[tuple[float, str]], target: float = 0.995) -> float:
    for t in [0.5 + i * 0.005 for i in range(100)] + [0.999, 0.9995, 0.9999, 0.99999]:
        precision, _, tp, _ = measure(scored, t)
        if precision >= target and tp:
            return round(t, 4)
    return 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=6000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    items = corpus(args.size, args.seed)
    for item in items:
        item["features"] = features(item)
    n = len(items)
    fit, valid, test = (
        items[: int(n * 0.55)],
        items[int(n * 0.55) : int(n * 0.7)],
        items[int(n * 0.7) :],
    )
    print(
        f"Data: SYNTHETIC corpus built by bench/classifier.py (seed {args.seed}): ham from "
        "the seed essays' sentences and the 33 real fixture comments, spam from campaign "
        "templates drifting month by month. Not real-world spam."
    )
    print(
        f"{n} comments ({sum(i['label'] == 'spam' for i in items)} spam), time-ordered: "
        f"train {len(fit)} / choose threshold {len(valid)} / test {len(test)} (the last 30%)"
    )
    threshold = max(FLOOR, choose_threshold(scores(valid, train(fit))))
    started = time.perf_counter()
    scored = scores(test, train(fit + valid))
    per_ms = (time.perf_counter() - started) * 1000 / len(test)
    print(
        f"threshold chosen on the validation slice (>= 99.5% precision there, at least "
        f"{FLOOR}): {threshold}"
    )
    online = online_scores(test, train(fit + valid))
    print(
        "static = trained on the first 70% only; online = also learns each test comment's "
        "label after scoring it (as moderators' decisions train it in production)"
    )
    print(
        f"{'threshold':>10} {'static precision':>17} {'recall':>7} {'false+':>7}"
        f" {'online precision':>17} {'recall':>7} {'false+':>7}"
    )
    default = DEFAULTS["moderation.spam_threshold"]
    for t in sorted({0.5, 0.9, 0.99, 0.999, 0.9999, threshold, default}):
        precision, recall, _, fp = measure(scored, t)
        o_precision, o_recall, _, o_fp = measure(online, t)
        mark = ("  <- chosen" if t == threshold else "") + ("  <- default" if t == default else "")
        print(
            f"{t:>10} {precision:>17.4f} {recall:>7.4f} {fp:>7} {o_precision:>17.4f}"
            f" {o_recall:>7.4f} {o_fp:>7}{mark}"
        )
    ham_scores = sorted(s for s, label in scored if label == "ham")
    print(
        f"ham scoring above 0.5 (held as uncertain, never spammed below the threshold): "
        f"{sum(s > 0.5 for s in ham_scores)} of {len(ham_scores)}"
    )
    print(f"scoring cost (features → score, in memory): {per_ms:.3f} ms per comment")


if __name__ == "__main__":
    main()
