"""Repository of restore points and recovery operations, the workflows of DR.

Both are run by engines step by step under a lease (``kingbird.db.leases``),
claimed while their status is one an engine works on; of two engines claiming
at once exactly one wins, and every later write names the owner and changes
nothing if the lease was lost meanwhile. Restore points are worked on while ``CREATING``
(being taken) and ``DELETING`` (their backups being removed); operations while
``QUEUED`` or ``IN_PROGRESS``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Mapping
from typing import Any, TypedDict

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kingbird.db import leases
from kingbird.db import sql as _sql
from kingbird.dr.models import RecoveryOperation, RestorePoint

_points: sa.Table = RestorePoint.__table__  # type: ignore[assignment]
_operations: sa.Table = RecoveryOperation.__table__  # type: ignore[assignment]

RESTORE_POINT = "restore_point"
OPERATION = "operation"
_WORKING = {RESTORE_POINT: ("CREATING", "DELETING"), OPERATION: ("QUEUED", "IN_PROGRESS")}


class WorkflowRow(TypedDict):
    """What restore points and operations share: the steps an engine runs, under a
    lease, with what each did (datetimes are aware UTC)."""

    steps: list[dict[str, Any]]
    state: dict[str, Any]
    error: str | None
    attempts: int
    lease_owner: str | None
    lease_expires_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class RestorePointRow(WorkflowRow):
    """A restore point (datetimes are aware UTC)."""

    id: str
    plan_id: str
    project_id: str
    sequence: int
    method: str
    region: str
    target_region: str
    purpose: str  # scheduled, requested (through the API) or failback
    status: str  # CREATING, AVAILABLE, ERROR or DELETING
    chain_id: str | None  # the restore point whose full backups this one builds on
    taken_at: dt.datetime | None
    completed_at: dt.datetime | None
    size_gb: int
    shape: dict[str, Any] | None
    volumes: list[dict[str, Any]]


class OperationRow(WorkflowRow):
    """A failover or failback (datetimes are aware UTC)."""

    id: str
    plan_id: str
    project_id: str
    kind: str  # failover or failback
    restore_point_id: str | None
    from_region: str
    to_region: str
    status: str  # QUEUED, IN_PROGRESS, SUCCESS or FAILURE
    requested_by: str
    request_id: str | None
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


_TABLES = {RESTORE_POINT: _points, OPERATION: _operations}
_TYPES = {RESTORE_POINT: RestorePointRow, OPERATION: OperationRow}


def _columns(kind: str) -> list[sa.Column]:
    table = _TABLES[kind]
    return [table.c[name] for name in _TYPES[kind].__annotations__]


def _row(kind: str, row: sa.Row) -> dict:
    return _TYPES[kind](**row._mapping)  # type: ignore[misc]


# -- restore points -------------------------------------------------------------------

def create_restore_point(session: Session, plan: Mapping[str, Any], purpose: str,
                         target_region: str, now: dt.datetime | None = None,
                         region: str | None = None) -> RestorePointRow:
    """Queue a restore point of ``plan`` (CREATING, numbered after the plan's last).

    :param region: where the VNF is captured (default: where the plan runs it now).
    """
    now = _sql.now_utc(now)
    last = session.execute(sa.select(sa.func.max(_points.c.sequence))
                           .where(_points.c.plan_id == plan["id"])).scalar()
    point = RestorePointRow(
        id=str(uuid.uuid4()), plan_id=plan["id"], project_id=plan["project_id"],
        sequence=(last or 0) + 1, method=plan["method"],
        region=region or plan["current_region"], target_region=target_region,
        purpose=purpose, status="CREATING", chain_id=None, taken_at=None, completed_at=None,
        size_gb=0, shape=None, volumes=[], steps=[], state={}, error=None, attempts=0,
        lease_owner=None, lease_expires_at=None, created_at=now, updated_at=now)
    session.execute(sa.insert(_points).values(**point))
    return point


def list_restore_points(session: Session, plan_id: str) -> list[RestorePointRow]:
    """The plan's restore points, oldest first."""
    rows = session.execute(sa.select(*_columns(RESTORE_POINT))
                           .where(_points.c.plan_id == plan_id)
                           .order_by(_points.c.sequence))
    return [_row(RESTORE_POINT, r) for r in rows]  # type: ignore[misc]


def get_restore_point(session: Session, point_id: str,
                      plan_id: str | None = None) -> RestorePointRow | None:
    """A restore point (of ``plan_id`` when given), or None."""
    stmt = sa.select(*_columns(RESTORE_POINT)).where(_points.c.id == point_id)
    if plan_id is not None:
        stmt = stmt.where(_points.c.plan_id == plan_id)
    row = session.execute(stmt).one_or_none()
    return None if row is None else _row(RESTORE_POINT, row)  # type: ignore[return-value]


def delete_restore_point_row(session: Session, point_id: str) -> None:
    session.execute(sa.delete(_points).where(_points.c.id == point_id))


# -- operations -----------------------------------------------------------------------

def create_operation(session: Session, values: Mapping[str, Any],
                     now: dt.datetime | None = None) -> OperationRow:
    """Queue a failover or failback.

    :param values: ``plan_id``, ``project_id``, ``kind``, ``restore_point_id``,
        ``from_region``, ``to_region``, ``requested_by``, ``request_id``, ``steps``.
    """
    now = _sql.now_utc(now)
    operation = OperationRow(
        id=str(uuid.uuid4()), status="QUEUED", started_at=None, finished_at=None, state={},
        error=None, attempts=0, lease_owner=None, lease_expires_at=None, created_at=now,
        updated_at=now, **values)  # type: ignore[typeddict-item]
    session.execute(sa.insert(_operations).values(**operation))
    return operation


def list_operations(session: Session, project_id: str | None = None,
                    plan_id: str | None = None) -> list[OperationRow]:
    """Operations of a project and/or plan, oldest first."""
    stmt = sa.select(*_columns(OPERATION)).order_by(_operations.c.created_at,
                                                    _operations.c.id)
    if project_id is not None:
        stmt = stmt.where(_operations.c.project_id == project_id)
    if plan_id is not None:
        stmt = stmt.where(_operations.c.plan_id == plan_id)
    return [_row(OPERATION, r) for r in session.execute(stmt)]  # type: ignore[misc]


def get_operation(session: Session, operation_id: str,
                  project_id: str | None = None) -> OperationRow | None:
    stmt = sa.select(*_columns(OPERATION)).where(_operations.c.id == operation_id)
    if project_id is not None:
        stmt = stmt.where(_operations.c.project_id == project_id)
    row = session.execute(stmt).one_or_none()
    return None if row is None else _row(OPERATION, row)  # type: ignore[return-value]


# -- workflows: claims, leases, progress ------------------------------------------------

def _claimable(table: sa.Table, kind: str, now: dt.datetime):
    return sa.and_(table.c.status.in_(_WORKING[kind]), leases.is_free(table, now))


def claimable(session: Session, kind: str, now: dt.datetime | None = None,
              limit: int = 50) -> list[str]:
    """Ids of the workflows of ``kind`` that no engine holds, oldest first."""
    now = _sql.now_utc(now)
    table = _TABLES[kind]
    rows = session.execute(sa.select(table.c.id).where(_claimable(table, kind, now))
                           .order_by(table.c.created_at, table.c.id).limit(limit))
    return list(rows.scalars())


def claim(session: Session, kind: str, workflow_id: str, owner: str, lease_seconds: float,
          now: dt.datetime | None = None) -> dict | None:
    """Take the lease on a workflow; the row as claimed, or None if another engine
    holds it (or it is finished)."""
    table = _TABLES[kind]
    if not leases.claim(session, table, workflow_id, owner, lease_seconds,
                        where=table.c.status.in_(_WORKING[kind]),
                        values={"attempts": table.c.attempts + 1}, now=now):
        return None
    row = session.execute(sa.select(*_columns(kind))
                          .where(table.c.id == workflow_id)).one()
    return _row(kind, row)


def renew(session: Session, kind: str, workflow_ids: Collection[str], owner: str,
          lease_seconds: float, now: dt.datetime | None = None) -> list[str]:
    """Extend ``owner``'s leases; the ids it still holds (it lost the others)."""
    return leases.renew(session, _TABLES[kind], workflow_ids, owner, lease_seconds, now=now)


def save(session: Session, kind: str, workflow_id: str, owner: str | None,
         values: Mapping[str, Any], now: dt.datetime | None = None) -> bool:
    """Write ``values`` on a workflow if ``owner`` holds its lease (any writer when
    ``owner`` is None, for the API's changes of a workflow no engine holds).

    :returns: False (and nothing changes) if the lease was lost.
    """
    table = _TABLES[kind]
    stmt = sa.update(table).where(table.c.id == workflow_id)
    if owner is not None:
        stmt = stmt.where(leases.held_by(table, owner))
    else:
        stmt = stmt.where(_claimable(table, kind, _sql.now_utc(now))
                          | table.c.status.not_in(_WORKING[kind]))
    return bool(session.execute(stmt.values(**values,
                                            updated_at=_sql.now_utc(now))).rowcount)


def release(session: Session, kind: str, workflow_id: str, owner: str,
            values: Mapping[str, Any] | None = None, until: dt.datetime | None = None,
            now: dt.datetime | None = None) -> bool:
    """Write ``values`` and give the lease back (the workflow finished, or waits for
    something); with ``until``, no engine claims it again before then.

    :returns: False (and nothing changes) if ``owner`` lost the lease.
    """
    return leases.release(session, _TABLES[kind], workflow_id, owner, until=until,
                          values={**(values or {}), "updated_at": _sql.now_utc(now)})


restore_points_table = _points
operations_table = _operations
