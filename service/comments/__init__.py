"""Readers' comments: posting and its guards, public threads and their cache, avatars, reply
notifications and commenters' own data."""

from typing import Any

#: The run-time settings of this capability and their defaults (core/settings.py).
SETTINGS: dict[str, Any] = {
    "comments.close_after_days": 0,  # 0: never close automatically
    "comments.max_depth": 3,
    "comments.min_seconds": 3,  # time trap: a post sooner after the page render is bot-like
    "comments.max_links": 10,  # more links than this: refused with a message
    "comments.flood_seconds": 15,  # a second comment from one IP or email within this: 429
    "comments.purge_after_days": 30,  # spam and trash are deleted after this many days
    "comments.ip_retention_days": 30,  # commenter IPs and user agents erased after this
    "comments.reply_notices_per_hour": 3,  # reply notifications per recipient per hour
    "comments.email_reply_days": 60,  # replies by email accepted this long after publication
    "comments.email_replies_per_hour": 10,  # replies by email per subscriber per hour
}
