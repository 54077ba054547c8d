"""Database helpers shared by every capability: which dialect, atomic upserts, row counts."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import CursorResult, Select, Table, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.dml import Insert

from service.extensions import db

M = TypeVar("M")


def dialect() -> str:
    """The name of the database this session talks to ("postgresql" or "sqlite")."""
    return db.session.get_bind().dialect.name


def is_postgresql() -> bool:
    return dialect() == "postgresql"


def upsert_add(table: Table, key: str, columns: tuple[str, ...]) -> Insert:
    """INSERT … ON CONFLICT (key) DO UPDATE SET column = column + excluded.column, for each of
    `columns`: counters that several processes add to at once without losing an update."""
    insert = pg_insert if is_postgresql() else sqlite_insert
    stmt = insert(table)
    return stmt.on_conflict_do_update(
        index_elements=[table.c[key]],
        set_={name: table.c[name] + stmt.excluded[name] for name in columns},
    )


def rowcount(result: Any) -> int:
    """How many rows an UPDATE or DELETE matched (the typed way to read `rowcount`)."""
    assert isinstance(result, CursorResult), type(result)
    return result.rowcount


def fetch(model: type[M], ident: Any) -> M:
    """The row of `model` with this primary key, which the caller knows exists (it just
    claimed or created it); LookupError if it was deleted meanwhile."""
    row = db.session.get(model, ident)
    if row is None:
        raise LookupError(f"{model.__name__} {ident} does not exist")
    return row


def count(query: Select[Any]) -> int:
    """How many rows `query` returns (0 for none)."""
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
