"""What happens to comments, for whoever listens (webhooks connect in create_app).

Both are sent inside the deciding transaction; receivers add rows and never commit. `status`,
when given, is the comment's status for the event (a row updated in bulk is not reloaded).
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: A reader's comment was decided for the first time (by the feed or a moderator).
comment_posted = _signals.signal("comment-posted")
#: A comment became public.
comment_approved = _signals.signal("comment-approved")
