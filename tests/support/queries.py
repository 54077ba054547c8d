"""Record the SQL statements the app sends, to count queries (no N+1) or see what was read."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

from service.extensions import db


@contextmanager
def statements(containing: str = ""):
    """Yield a list that collects every statement sent meanwhile (those containing `containing`)."""
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        if containing in statement:
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
