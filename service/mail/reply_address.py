"""The signed reply address of one reader for one issue: reply+ISSUE-SUBSCRIBER-MAC@REPLY_DOMAIN.

Issue and digest emails carry it as their Reply-To, so an emailed reply names its issue and its
reader without trusting the From header (anyone can write any From). The MAC is the first 12
hex digits of HMAC-SHA256(SECRET_KEY, "reply:ISSUE:SUBSCRIBER"), the shape of the VERP bounce
addresses (mail/headers.py); local parts are compared case-insensitively, since some mail
servers fold them to lower case.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass

from flask import current_app

_LOCAL = re.compile(r"^reply\+(\d{1,12})-(\d{1,12})-([0-9a-f]{12})$", re.IGNORECASE)


@dataclass(frozen=True)
class ReplyTarget:
    """What a reply address names: which issue, which subscriber (the MAC verified)."""

    issue_id: int
    subscriber_id: int


def reply_domain() -> str:
    """REPLY_DOMAIN ('' when replies by email are off)."""
    return current_app.config.get("REPLY_DOMAIN") or ""


def _mac(issue_id: int, subscriber_id: int) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    message = f"reply:{issue_id}:{subscriber_id}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:12]


def reply_address(issue_id: int, subscriber_id: int) -> str:
    """The address one subscriber's replies to one issue go to."""
    token = f"{issue_id}-{subscriber_id}-{_mac(issue_id, subscriber_id)}"
    return f"reply+{token}@{reply_domain()}"


def reply_to(issue_id: int, subscriber_id: int) -> dict[str, str]:
    """The Reply-To header for one subscriber's copy of an issue (none when REPLY_DOMAIN is
    unset); composers merge it into their headers."""
    if not reply_domain():
        return {}
    return {"Reply-To": reply_address(issue_id, subscriber_id)}


def looks_like_reply_address(address: str) -> bool:
    """Whether `address` has the reply+…@REPLY_DOMAIN shape (its MAC not yet checked)."""
    local, _, domain = address.strip().strip("<>").rpartition("@")
    domain_ok = bool(reply_domain()) and domain.lower() == reply_domain()
    return domain_ok and _LOCAL.match(local) is not None


def parse(address: str) -> ReplyTarget | None:
    """The issue and subscriber a genuine reply address names; None for anything else,
    a forged or altered MAC included."""
    if not looks_like_reply_address(address):
        return None
    local = address.strip().strip("<>").rpartition("@")[0]
    match = _LOCAL.match(local)
    assert match is not None  # looks_like_reply_address checked the shape
    issue_id, subscriber_id, mac = int(match.group(1)), int(match.group(2)), match.group(3)
    if not hmac.compare_digest(mac.lower(), _mac(issue_id, subscriber_id)):
        return None
    return ReplyTarget(issue_id, subscriber_id)


def find(addresses: Iterable[str]) -> tuple[ReplyTarget | None, bool]:
    """The first genuine reply address among `addresses`, and whether any address had the
    reply+ shape at all (a shape with a bad MAC is a forgery, not a stranger)."""
    shaped = False
    for address in addresses:
        if looks_like_reply_address(address):
            shaped = True
            target = parse(address)
            if target is not None:
                return target, True
    return None, shaped
