"""Moderation: the automatic decision (rules, then the classifier), the feed that turns due
comments into tasks, moderators' actions and their notification emails."""

from typing import Any

#: The run-time settings of this capability and their defaults (core/settings.py).
SETTINGS: dict[str, Any] = {
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
}
