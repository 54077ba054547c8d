"""The moderation rules, WordPress-style, each configurable in the settings.

`evaluate` reports what the rules found; moderation.decide turns findings into a decision.
Words match as case-insensitive substrings of the name, email, website, body and IP (like
WordPress's moderation and disallowed keys).
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass, field

from sqlalchemy import select

from service.core import settings
from service.core.addresses import email_key
from service.extensions import db
from service.models import Comment, CommentStatus
from service.moderation.classifier import hostname, link_hosts

log = logging.getLogger(__name__)

# Settings (defaults in service/moderation/__init__.py): moderation.hold_all, require_known,
# max_links, words, disallowed_words, banned_emails, banned_domains, banned_ips.


@dataclass
class Findings:
    spam: list[str] = field(default_factory=list)
    hold: list[str] = field(default_factory=list)
    known: str = ""  # why the commenter is known ('' when not)


def _fields(comment: Comment) -> dict[str, str]:
    return {
        "name": comment.author_name or "",
        "email": comment.author_email or "",
        "website": comment.author_url or "",
        "body": comment.body_md or "",
        "IP": comment.author_ip or "",
    }


def _words(key: str) -> list[str]:
    return [w.strip().lower() for w in settings.get(key) or [] if w and w.strip()]


def word_hits(comment: Comment, words: list[str]) -> list[str]:
    """'word' in field, for every configured word found in one of the comment's fields."""
    hits = []
    for name, value in _fields(comment).items():
        lowered = value.lower()
        hits += [f"“{w}” in {name}" for w in words if w in lowered]
    return hits


def link_count(comment: Comment) -> int:
    """Links in the body, bare URLs included."""
    return len(link_hosts(comment.body_md or ""))


def _domain_banned(host: str, banned: list[str]) -> str:
    for domain in banned:
        if host == domain or host.endswith("." + domain):
            return domain
    return ""


def ban_hits(comment: Comment) -> list[str]:
    """Reasons a banned email, domain or IP range matches this comment."""
    reasons = []
    email = email_key(comment.author_email)
    if email and email in _words("moderation.banned_emails"):
        reasons.append(f"banned email {email}")
    domains = [d.lstrip("@.") for d in _words("moderation.banned_domains")]
    hosts = [email.rpartition("@")[2], hostname(comment.author_url or "")]
    hosts += link_hosts(comment.body_md or "")
    for host in filter(None, hosts):
        if hit := _domain_banned(host, domains):
            reasons.append(f"banned domain {hit}")
            break
    if network := ip_banned(comment.author_ip or ""):
        reasons.append(f"banned IP range {network}")
    return reasons


def ip_banned(address: str) -> str:
    """The banned range containing `address`, or ''."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return ""
    for entry in settings.get("moderation.banned_ips") or []:
        try:
            network = ipaddress.ip_network(entry.strip(), strict=False)
        except ValueError:
            log.warning("ignoring the malformed banned IP range %r", entry)
            continue
        if ip.version == network.version and ip in network:
            return str(network)
    return ""


def known_commenter(comment: Comment) -> str:
    """Why this commenter counts as known, or '' (only this browser's signed cookie proves it).

    A typed email proves nothing (anyone can type a subscriber's address), so it never counts.
    """
    token = comment.author_token or ""
    if token and db.session.scalar(
        select(Comment.id)
        .where(
            Comment.status == CommentStatus.APPROVED,
            Comment.id != comment.id,
            Comment.author_token == token,
        )
        .limit(1)
    ):
        return "same browser as an earlier approved comment"
    return ""


def evaluate(comment: Comment) -> Findings:
    """Apply every rule to a comment."""
    found = Findings()
    found.spam += ban_hits(comment)
    found.spam += [
        f"disallowed word {hit}"
        for hit in word_hits(comment, _words("moderation.disallowed_words"))
    ]
    found.hold += [
        f"moderation word {hit}" for hit in word_hits(comment, _words("moderation.words"))
    ]
    limit = int(settings.get("moderation.max_links") or 0)
    links = link_count(comment)
    if limit and links >= limit:
        found.hold.append(f"{links} links (holding at {limit})")
    if settings.get("moderation.hold_all"):
        found.hold.append("every comment is held for a moderator")
    found.known = known_commenter(comment)
    return found
