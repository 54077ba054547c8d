"""Site settings an admin changes at run time, stored as JSON in the settings table.

Each area registers its defaults in DEFAULTS; `get` falls back to them.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from . import recent as _recent
from .extensions import db
from .models import Setting

DEFAULTS: dict[str, Any] = {
    "site.description": "",
    "comments.close_after_days": 0,  # 0: never close automatically
    "comments.max_depth": 3,
    # Moderation (service/rules.py, service/classifier.py, service/moderator_notify.py)
    "moderation.hold_all": False,  # WordPress: "Comment must be manually approved"
    "moderation.require_known": True,  # "Comment author must have a previously approved comment"
    "moderation.max_links": 2,  # hold a comment with this many links or more (0: off)
    "moderation.words": [],  # hold a comment containing one of these
    "moderation.disallowed_words": [],  # mark spam a comment containing one of these
    "moderation.banned_emails": [],
    "moderation.banned_domains": [],
    "moderation.banned_ips": [],  # addresses or ranges: 203.0.113.0/24, 2001:db8::/32
    "moderation.spam_threshold": 0.99,  # classifier score marking spam (chosen in bench/)
    "moderation.hold_threshold": 0.5,  # classifier score from which a comment is held (uncertain)
    "moderation.classifier_min_trained": 20,  # spam and ham decisions needed before it acts
    "moderation.notify": True,  # email moderators about held comments
    "moderation.notify_interval_minutes": 5,
    "moderation.link_days": 3,  # how long one-click links in those emails work
    "comments.min_seconds": 3,  # time trap: a post sooner after the page render is bot-like
    "comments.max_links": 10,  # more links than this: refused with a message
    "comments.flood_seconds": 15,  # a second comment from one IP or email within this: 429
    "comments.purge_after_days": 30,  # spam and trash are deleted after this many days
    "comments.ip_retention_days": 30,  # commenter IPs and user agents erased after this
    "comments.reply_notices_per_hour": 3,  # reply notifications per recipient per hour
    # Newsletter (service/subscriptions.py, delivery.py, digests.py)
    "newsletter.min_form_seconds": 2,  # time trap on the subscribe form
    "newsletter.batch_size": 100,  # rows a worker claims at once
    "newsletter.lease_seconds": 300,  # a claim older than this (worker died) is re-queued
    "newsletter.max_attempts": 8,  # temporary failures before a row is failed
    "newsletter.retry_base_seconds": 60,  # backoff: base·2^(n-1), with jitter
    "newsletter.pause_after_errors": 50,  # a send pauses itself after this many errors
    "newsletter.parallel_tasks": 2,  # drain tasks enqueued per send (workers sharing it)
    "newsletter.rate_per_second": 0,  # per SMTP server, shared by all workers; 0: no limit
    "newsletter.digest_hour": 8,  # local hour (TIMEZONE) at which digests fall due
    "newsletter.digest_weekday": 0,  # 0 = Monday … 6 = Sunday, for weekly digests
    "newsletter.digest_comments": 5,  # most discussed comments in a digest
}


_CACHE = "margins_settings"
_ALL = select(Setting.key, Setting.value)


def _stored() -> dict[str, str]:
    """Every stored setting, read in one query per transaction (not once per key)."""
    found = db.session.info.get(_CACHE)
    if found is None:
        rows = db.session.connection().execute(_ALL)
        found = {key: value for key, value in rows}
        db.session.info[_CACHE] = found
    return found


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    """A new transaction reads the settings again (another process may have changed them)."""
    session.info.pop(_CACHE, None)


def get(key: str, default: Any = None) -> Any:
    """The stored value of `key`, else its registered default, else `default`."""
    raw = _stored().get(key)
    if raw is not None:
        return json.loads(raw)
    return DEFAULTS.get(key, default)


def recent(key: str, default: Any = None) -> Any:
    """Like get(), but from this app's copy of the settings, at most recent.MAX_AGE (2 s) old:
    for hot paths (a comment post) that should not spend a query on settings every time."""
    raw = _recent.get(_CACHE, lambda: dict(_stored())).get(key)
    if raw is not None:
        return json.loads(raw)
    return DEFAULTS.get(key, default)


def put(key: str, value: Any) -> None:
    """Store `value` for `key` in the current transaction (the caller commits)."""
    db.session.info.pop(_CACHE, None)
    _recent.forget(_CACHE)
    row = db.session.get(Setting, key)
    if row is None:
        db.session.add(Setting(key=key, value=json.dumps(value)))
    else:
        row.value = json.dumps(value)
