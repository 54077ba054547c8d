"""A cache of rendered comment threads, correct across processes and hosts.

The key holds the issue's `comments_version`, which database triggers bump in the same
transaction as every insert, delete or visible change of one of its comments (migration 0006),
whatever code made it: moderation decisions, edits, deletes, replies, imports, purges. The
other inputs of the shared thread (issue title, comments open, maximum depth, timezone) are in
the key too. A stale entry is simply never asked for again and ages out of the LRU. Only the part every
reader sees is cached: approved comments and trackbacks; a reader with a pending comment of
their own gets a fresh, uncached thread.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from markupsafe import Markup

from service.core.site import timezone_name

DEFAULT_SIZE = 64  # a 200-comment thread takes ~200 kB


@dataclass(frozen=True, slots=True)
class ReplyTarget:
    """An approved comment a reader may reply to (what the form's "Reply to NAME" needs)."""

    id: int
    author_name: str


@dataclass(frozen=True, slots=True)
class Entry:
    """One rendered thread: its HTML, the comments one may reply to, and whether it shows the
    viewer's own pending comments (then it is never cached)."""

    encoded: bytes  # UTF-8: half the memory of a str holding any non-Latin-1 character
    replyable: dict[int, str]
    awaiting: bool = False

    @classmethod
    def of(cls, html: str, thread: Any) -> Entry:
        views = thread.by_id.values()
        return cls(
            html.encode(),
            {v.id: v.author_name for v in views if not v.awaiting},
            any(v.awaiting for v in views),
        )

    @property
    def html(self) -> Markup:
        return Markup(self.encoded.decode())

    def reply_target(self, comment_id: int | None) -> ReplyTarget | None:
        if comment_id is None or (name := self.replyable.get(comment_id)) is None:
            return None
        return ReplyTarget(comment_id, name)


class LRU:
    """A small thread-safe least-recently-used map."""

    def __init__(self, size: int = DEFAULT_SIZE):
        self.size = max(0, size)
        self._items: OrderedDict[Hashable, Entry] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable) -> Entry | None:
        with self._lock:
            entry = self._items.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return entry

    def put(self, key: Hashable, entry: Entry) -> None:
        if self.size == 0:
            return
        with self._lock:
            self._items[key] = entry
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


def cache() -> LRU:
    """This app's thread cache (one per app and process; THREAD_CACHE_SIZE entries, 0: off)."""
    found = current_app.extensions.get("margins_thread_cache")
    if found is None:
        size = int(current_app.config.get("THREAD_CACHE_SIZE", DEFAULT_SIZE))
        found = current_app.extensions.setdefault("margins_thread_cache", LRU(size))
    return found


def thread_key(issue, comments_open: bool, max_depth: int) -> tuple:
    """Everything the shared thread's HTML depends on (dates show in the site's timezone)."""
    return (
        issue.id,
        issue.comments_version,
        issue.title,
        bool(comments_open),
        max_depth,
        timezone_name(),
    )


def cached(key: tuple, build: Callable[[], Entry]) -> Entry:
    """The entry for `key`, built (and kept) on a miss."""
    store = cache()
    entry = store.get(key)
    if entry is None:
        entry = build()
        store.put(key, entry)
    return entry
