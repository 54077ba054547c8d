"""The typed declarative base every model derives from, and the column helpers they share."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar, TypeVar

from sqlalchemy import CheckConstraint, DateTime, Enum, MetaData, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

#: Constraint names Alembic can find again (and that migrations spell out).
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """SQLAlchemy 2's typed base; Flask-SQLAlchemy's db.Model shares its metadata and registry."""

    metadata = MetaData(naming_convention=NAMING)
    #: Every model here maps one plain table (hot paths build Core statements on it).
    __table__: ClassVar[Table]


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given; use an aware UTC datetime")
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def state_type(states: type[StrEnum]) -> Enum:
    """A column type holding one of `states`: stored as its value (VARCHAR(20)), read back as
    the member; binding anything else raises at once instead of matching no row."""
    return Enum(
        states,
        native_enum=False,
        create_constraint=False,
        length=20,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
    )


def state_check(column: str, states: type[StrEnum]) -> CheckConstraint:
    """The CHECK constraint (named ck_<table>_<column>) that holds `column` to `states`."""
    allowed = ", ".join(f"'{member.value}'" for member in states)
    return CheckConstraint(f"{column} IN ({allowed})", name=column)


S = TypeVar("S", bound=StrEnum)


def parse_state(states: type[S], value: object) -> S | None:
    """The member of `states` whose value is `value` (e.g. from a form), or None."""
    try:
        return states(str(value))
    except ValueError:
        return None
