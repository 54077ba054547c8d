"""Per-process copies of small, rarely changing reads, at most a couple of seconds old.

For hot paths (a comment post) that should not spend a query on the same answer every time:
the run-time settings, and which issue a slug names. Each Flask app keeps its own copies; a
change saved by this process forgets them at once, one saved by another process is seen within
MAX_AGE seconds. Whatever must be exact is checked again by the statement that acts on it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from flask import current_app

T = TypeVar("T")
MAX_AGE = 2.0
LIMIT = 1000  # entries per app; past this the copies start over (a crawler's many slugs)
_KEY = "margins_recent"


def get(
    key: str,
    load: Callable[[], T],
    keep: Callable[[T], bool] = lambda value: True,
    max_age: float | None = None,
) -> T:
    """This app's copy of `load()` under `key`, loaded again once older than `max_age` (default
    MAX_AGE); a value for which `keep` is false (e.g. "not found") is returned but not kept."""
    copies = current_app.extensions.setdefault(_KEY, {})
    now = time.monotonic()
    found = copies.get(key)
    if found is not None and now - found[0] <= (MAX_AGE if max_age is None else max_age):
        return found[1]
    value = load()
    if keep(value):
        if len(copies) >= LIMIT:
            copies.clear()
        copies[key] = (now, value)
    return value


def forget(key: str | None = None) -> None:
    """Drop one copy (or all) in this app, after this process changed what it holds."""
    copies = current_app.extensions.get(_KEY, {})
    if key is None:
        copies.clear()
    else:
        copies.pop(key, None)
