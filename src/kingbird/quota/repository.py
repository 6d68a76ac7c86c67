"""Repository of global quota limits: per project, and per quota class.

Every function takes the Session of a transaction opened by the caller and
returns plain values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kingbird.db import sql as _sql
from kingbird.quota.models import Quota, QuotaClass

_quotas: sa.Table = Quota.__table__  # type: ignore[assignment]
_classes: sa.Table = QuotaClass.__table__  # type: ignore[assignment]


def _limits(session: Session, table: sa.Table, owner_column: str, owner: str) -> dict[str, int]:
    rows = session.execute(
        sa.select(table.c.resource, table.c.hard_limit).where(table.c[owner_column] == owner)
    )
    return {resource: limit for resource, limit in rows}


def _set_limits(session: Session, table: sa.Table, owner_column: str, owner: str,
                limits: Mapping[str, int]) -> None:
    now = _sql.now_utc(None)
    rows = [
        {owner_column: owner, "resource": resource, "hard_limit": int(limit),
         "created_at": now, "updated_at": now}
        for resource, limit in sorted(limits.items())
    ]
    _sql.upsert(session, table, rows, keys=[owner_column, "resource"],
                update=["hard_limit", "updated_at"])


def _delete_limits(session: Session, table: sa.Table, owner_column: str, owner: str,
                   keys: Iterable[str] | None) -> int:
    stmt = sa.delete(table).where(table.c[owner_column] == owner)
    if keys is not None:
        stmt = stmt.where(table.c.resource.in_(list(keys)))
    return session.execute(stmt).rowcount


def get_project_limits(session: Session, project_id: str) -> dict[str, int]:
    """The global limits the admin set for a project.

    :param project_id: Keystone project id.
    :returns: quota key -> hard limit, only for the keys that were set.
    """
    return _limits(session, _quotas, "project_id", project_id)


def set_project_limits(session: Session, project_id: str, limits: Mapping[str, int]) -> None:
    """Set (insert or overwrite) some global limits of a project; keys not given
    keep their value.

    :param limits: quota key -> hard limit (-1 is unlimited).
    """
    _set_limits(session, _quotas, "project_id", project_id, limits)


def delete_project_limits(session: Session, project_id: str,
                          keys: Iterable[str] | None = None) -> int:
    """Delete the given limits of a project, or all of them when ``keys`` is None.

    :returns: how many limits were deleted.
    """
    return _delete_limits(session, _quotas, "project_id", project_id, keys)


def projects_with_limits(session: Session) -> list[str]:
    """Ids of the projects that have at least one global limit set, sorted."""
    rows = session.execute(
        sa.select(_quotas.c.project_id).distinct().order_by(_quotas.c.project_id)
    )
    return list(rows.scalars())


def get_class_limits(session: Session, class_name: str) -> dict[str, int]:
    """The limits of a quota class (quota key -> hard limit; empty if none set)."""
    return _limits(session, _classes, "class_name", class_name)


def set_class_limits(session: Session, class_name: str, limits: Mapping[str, int]) -> None:
    """Set (insert or overwrite) some limits of a quota class."""
    _set_limits(session, _classes, "class_name", class_name, limits)


def delete_class(session: Session, class_name: str) -> int:
    """Delete every limit of a quota class.

    :returns: how many limits were deleted (0: the class had none).
    """
    return _delete_limits(session, _classes, "class_name", class_name, None)
