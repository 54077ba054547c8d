"""What publishing tells the rest of Margins (connected in create_app, never on import)."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: Sent inside the publishing transaction with `email_subscribers`: receivers may add rows
#: (the newsletter plans its deliveries, webhooks queue their event); they must not commit.
issue_publishing = _signals.signal("issue-publishing")
#: Sent after the publishing transaction committed: receivers may enqueue work.
issue_published = _signals.signal("issue-published")
