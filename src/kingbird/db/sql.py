"""Small SQL helpers shared by the repository modules: dialect-aware upserts and
the normalisation of ``now`` arguments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kingbird.db.base import utcnow


def dialect_name(session: Session) -> str:
    """``postgresql``, ``sqlite``, ``mysql`` (also for MariaDB), ..."""
    return session.get_bind().dialect.name


def now_utc(now: dt.datetime | None) -> dt.datetime:
    """``now`` as an aware UTC datetime; the current time when None (naive is UTC)."""
    if now is None:
        return utcnow()
    if now.tzinfo is None:
        return now.replace(tzinfo=dt.UTC)
    return now.astimezone(dt.UTC)


def _dialect_insert(session: Session, table: sa.Table):
    name = dialect_name(session)
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    elif name in ("mysql", "mariadb"):
        from sqlalchemy.dialects.mysql import insert
    else:
        raise NotImplementedError(f"no upsert for the {name} dialect")
    return name, insert(table)


def upsert(session: Session, table: sa.Table, rows: Sequence[dict[str, Any]],
           keys: Sequence[str], update: Sequence[str]) -> None:
    """Insert ``rows``; where a row with the same ``keys`` exists, overwrite the
    ``update`` columns instead (nothing at all when ``update`` is empty).

    One statement, so that two writers racing on the same key cannot fail with a
    duplicate-key error.
    """
    if not rows:
        return
    name, stmt = _dialect_insert(session, table)
    stmt = stmt.values(list(rows))
    if name in ("mysql", "mariadb"):
        # Without anything to update, assigning the key to itself is a no-op that
        # still swallows only the duplicate-key case (unlike INSERT IGNORE).
        cols = update or [keys[0]]
        stmt = stmt.on_duplicate_key_update({c: stmt.inserted[c] for c in cols})
    elif update:
        stmt = stmt.on_conflict_do_update(
            index_elements=list(keys), set_={c: stmt.excluded[c] for c in update}
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(keys))
    session.execute(stmt)
