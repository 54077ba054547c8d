"""Counts that stay fast on big tables: exact up to a cap, then shown as "10,000+".

A capped count reads at most cap + 1 index entries, so a tab or a pager costs the same with a
thousand rows or ten million.
"""

from __future__ import annotations

from sqlalchemy import Select

from service.core.db import count

CAP = 10_000


class AtLeast(int):
    """A count that reached its cap: compares as the cap, prints as "10,000+"."""

    def __str__(self) -> str:
        return f"{int(self):,}+"


def capped_count(query: Select, cap: int = CAP) -> int:
    """How many rows `query` returns, or AtLeast(cap) when there are more than `cap`."""
    found = count(query.limit(cap + 1))
    return AtLeast(cap) if found > cap else found
