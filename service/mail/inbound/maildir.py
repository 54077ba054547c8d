"""Reading a Maildir of incoming mail on a schedule: each message is handed over, then removed.

A message whose handling raised stays where it is for the next run (the database may be
away); another reader taking the same message at the same moment is harmless, since the
handler recognises a message it has stored before.
"""

from __future__ import annotations

import logging
import mailbox
from collections.abc import Callable

log = logging.getLogger(__name__)


def drain(path: str, handle: Callable[[bytes], object]) -> dict[str, int]:
    """Hand every message in the Maildir at `path` to `handle`; count outcomes by name."""
    box = mailbox.Maildir(path, factory=None, create=True)
    counts: dict[str, int] = {}
    for key in list(box.keys()):
        try:
            with box.get_file(key) as fh:
                raw = fh.read()
        except (KeyError, FileNotFoundError):
            continue  # another reader took it
        try:
            outcome = str(handle(raw))
        except Exception:
            log.exception("could not process %s in %s; it stays for the next run", key, path)
            outcome = "error"
        else:
            box.discard(key)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts
