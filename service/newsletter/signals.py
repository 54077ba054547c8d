"""What the newsletter tells the rest of Margins (receivers connect in create_app)."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: A subscriber confirmed (inside the transaction; receivers add rows, never commit).
subscriber_confirmed = _signals.signal("subscriber-confirmed")
#: A subscription ended by the reader, with `via` (page, one-click, mailto).
subscriber_unsubscribed = _signals.signal("subscriber-unsubscribed")
