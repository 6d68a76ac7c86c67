"""Repository of protection plans, and the schedule of their restore points.

A plan is due for a restore point when its ``next_restore_point_at`` has passed
or one was requested through the API. Of several engines seeing a plan due, one
wins the compare-and-set on ``next_restore_point_at`` and queues the restore
point; the others see the plan not due any more.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, TypedDict

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kingbird.db import sql as _sql
from kingbird.dr.models import ProtectionPlan
from kingbird.dr.workflow_repository import operations_table, restore_points_table

_plans: sa.Table = ProtectionPlan.__table__  # type: ignore[assignment]


class Plan(TypedDict):
    """A protection plan (datetimes are aware UTC)."""

    id: str
    project_id: str
    user_id: str
    name: str
    description: str | None
    method: str  # snapshot-backup or replication
    home_region: str  # where the VNF runs when nothing failed
    recovery_region: str
    current_region: str  # where it runs now (home, or recovery after a failover)
    servers: list[str]  # server ids in current_region, in boot order
    interval: int
    retention: int
    trust_id: str | None
    status: str
    next_restore_point_at: dt.datetime | None
    restore_point_requested_at: dt.datetime | None
    error: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


_COLUMNS = [_plans.c[name] for name in Plan.__annotations__]
_UPDATABLE = frozenset(Plan.__annotations__) - {"id", "project_id", "created_at"}


def _plan(row: sa.Row) -> Plan:
    return Plan(**row._mapping)  # type: ignore[typeddict-item]


def create_plan(session: Session, values: Mapping[str, Any],
                now: dt.datetime | None = None) -> Plan:
    """Store a new ACTIVE plan, its first restore point due at once.

    :param values: every column of ``Plan`` but ``id``, ``status``,
        ``current_region`` (the home region), the schedule and timestamps.
    """
    now = _sql.now_utc(now)
    plan = Plan(id=str(uuid.uuid4()), status="ACTIVE", current_region=values["home_region"],
                next_restore_point_at=now, restore_point_requested_at=None, error=None,
                created_at=now, updated_at=now, **values)  # type: ignore[typeddict-item]
    session.execute(sa.insert(_plans).values(**plan))
    return plan


def get_plan(session: Session, project_id: str, plan_id: str) -> Plan | None:
    """A plan of the project, or None."""
    row = session.execute(sa.select(*_COLUMNS).where(
        _plans.c.id == plan_id, _plans.c.project_id == project_id)).one_or_none()
    return None if row is None else _plan(row)


def find_plan(session: Session, plan_id: str, lock: bool = False) -> Plan | None:
    """A plan whatever its project (engines act for every project); ``lock`` takes
    its row lock until the transaction ends."""
    stmt = sa.select(*_COLUMNS).where(_plans.c.id == plan_id)
    if lock:
        stmt = stmt.with_for_update()
    row = session.execute(stmt).one_or_none()
    return None if row is None else _plan(row)


def list_plans(session: Session, project_id: str | None = None,
               status: str | None = None) -> list[Plan]:
    """The plans of a project (of all projects when None), with ``status`` when
    given, oldest first."""
    stmt = sa.select(*_COLUMNS).order_by(_plans.c.created_at, _plans.c.id)
    if project_id is not None:
        stmt = stmt.where(_plans.c.project_id == project_id)
    if status is not None:
        stmt = stmt.where(_plans.c.status == status)
    return [_plan(row) for row in session.execute(stmt)]


def plans_protecting(session: Session, region: str,
                     server_ids: Iterable[str]) -> dict[str, str]:
    """``{server id: plan id}`` for the given servers of ``region`` that a plan
    already protects."""
    wanted = set(server_ids)
    found: dict[str, str] = {}
    rows = session.execute(sa.select(_plans.c.id, _plans.c.servers)
                           .where(_plans.c.current_region == region))
    for plan_id, servers in rows:
        for server_id in set(servers or ()) & wanted:
            found[server_id] = plan_id
    return found


def update_plan(session: Session, plan_id: str, values: Mapping[str, Any],
                expected_status: Iterable[str] | None = None,
                now: dt.datetime | None = None) -> bool:
    """Change a plan; with ``expected_status``, only if its status is one of them.

    :returns: whether the plan was changed.
    :raises ValueError: a column that cannot change.
    """
    unknown = set(values) - _UPDATABLE
    if unknown:
        raise ValueError(f"cannot update {sorted(unknown)} of a plan")
    stmt = sa.update(_plans).where(_plans.c.id == plan_id)
    if expected_status is not None:
        stmt = stmt.where(_plans.c.status.in_(list(expected_status)))
    return bool(session.execute(
        stmt.values(**values, updated_at=_sql.now_utc(now))).rowcount)


def delete_plan(session: Session, plan_id: str) -> bool:
    """Forget a plan (its restore points and operations go with it)."""
    for table in (restore_points_table, operations_table):
        session.execute(sa.delete(table).where(table.c.plan_id == plan_id))
    return bool(session.execute(sa.delete(_plans).where(_plans.c.id == plan_id)).rowcount)


def request_restore_point(session: Session, plan_id: str,
                          now: dt.datetime | None = None) -> None:
    """Ask for a restore point of the plan as soon as possible."""
    session.execute(sa.update(_plans).where(_plans.c.id == plan_id)
                    .values(restore_point_requested_at=_sql.now_utc(now)))


def due_plans(session: Session, now: dt.datetime | None = None,
              limit: int = 100) -> list[Plan]:
    """ACTIVE plans whose restore point is due or was requested."""
    now = _sql.now_utc(now)
    due = sa.or_(_plans.c.restore_point_requested_at.is_not(None),
                 _plans.c.next_restore_point_at <= now)
    rows = session.execute(sa.select(*_COLUMNS)
                           .where(_plans.c.status == "ACTIVE", due)
                           .order_by(_plans.c.next_restore_point_at, _plans.c.id).limit(limit))
    return [_plan(row) for row in rows]


def take_schedule_slot(session: Session, plan: Plan, next_at: dt.datetime) -> bool:
    """Move the plan's next restore point to ``next_at`` and clear its request,
    if nobody did since ``plan`` was read: True for the one engine that should
    queue the restore point."""
    same = sa.and_(
        _plans.c.id == plan["id"], _plans.c.status == "ACTIVE",
        _plans.c.next_restore_point_at == plan["next_restore_point_at"]
        if plan["next_restore_point_at"] is not None
        else _plans.c.next_restore_point_at.is_(None),
        _plans.c.restore_point_requested_at == plan["restore_point_requested_at"]
        if plan["restore_point_requested_at"] is not None
        else _plans.c.restore_point_requested_at.is_(None))
    return bool(session.execute(sa.update(_plans).where(same).values(
        next_restore_point_at=_sql.now_utc(next_at),
        restore_point_requested_at=None)).rowcount)


plans_table = _plans
