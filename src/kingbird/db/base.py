"""What every Kingbird table is built on: the declarative ``Base``, the timestamp
mixin, and the UTC timestamp type. Each feature declares its own tables on it
(``kingbird.<feature>.models``); ``kingbird.models`` imports them all.

Model classes describe the schema; they never leave their feature's repository
modules: repository functions turn rows into plain dicts. The schema itself is created by
the Alembic migrations in ``kingbird/db/migrations`` (written by hand to match
these classes; a unit test compares the two).

Timestamps are stored as naive UTC (``UtcDateTime``) so that comparisons in SQL
(``lease_expires_at <= :now``) mean the same on SQLite, PostgreSQL and MySQL,
and come back as timezone-aware UTC datetimes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Constraint names are spelled out so that migrations can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


class UtcDateTime(sa.types.TypeDecorator):
    """A timestamp stored as naive UTC, returned as aware UTC.

    Naive datetimes given as parameters are taken to be UTC already. On MySQL
    the column keeps microseconds (``DATETIME(6)``), which lease comparisons need.
    """

    impl = sa.DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(sa.DateTime())

    def process_bind_param(self, value: Any, dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


def in_values(column: str, values: tuple[str, ...]) -> str:
    """A CHECK constraint's SQL: ``column`` takes one of ``values``."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UtcDateTime()}


class TimestampMixin:
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
