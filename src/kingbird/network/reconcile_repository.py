"""Bookkeeping shared by the objects engines keep converged (``ReconciledMixin``):
which are due, exclusive leases, on-demand requests.

An object is due when a reconcile was requested or its periodic one is due. A
lease is a compare-and-set on the object's row (``UPDATE ... WHERE lease free or
expired``), so of two engines claiming at once exactly one wins, on SQLite as on
PostgreSQL and MySQL. Finishing releases the lease and clears only the requests
made before the reconcile started: a change made meanwhile is reconciled again.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kingbird.db import sql as _sql


def _lease_free(table: sa.Table, now: dt.datetime):
    return sa.or_(table.c.lease_owner.is_(None), table.c.lease_expires_at.is_(None),
                  table.c.lease_expires_at <= now)


def due(session: Session, table: sa.Table, now: dt.datetime | None = None,
        limit: int = 100) -> list[str]:
    """Ids of the objects to reconcile now and not leased, requested ones first."""
    now = _sql.now_utc(now)
    wanted = sa.or_(table.c.requested_at.is_not(None), table.c.due_at.is_(None),
                    table.c.due_at <= now)
    rows = session.execute(
        sa.select(table.c.id).where(wanted, _lease_free(table, now))
        .order_by(table.c.requested_at.is_(None), table.c.requested_at, table.c.due_at,
                  table.c.id)
        .limit(limit))
    return list(rows.scalars())


def claim(session: Session, table: sa.Table, object_id: str, owner: str,
          lease_seconds: float, now: dt.datetime | None = None) -> bool:
    """Take the lease on one object if nobody holds a live one; True if taken."""
    now = _sql.now_utc(now)
    result = session.execute(
        sa.update(table).where(table.c.id == object_id, _lease_free(table, now))
        .values(lease_owner=owner, lease_expires_at=now + dt.timedelta(seconds=lease_seconds)))
    return result.rowcount == 1


def renew(session: Session, table: sa.Table, object_id: str, owner: str,
          lease_seconds: float, now: dt.datetime | None = None) -> bool:
    """Extend ``owner``'s lease; False if it lost it (expired and taken over, or deleted)."""
    now = _sql.now_utc(now)
    result = session.execute(
        sa.update(table).where(table.c.id == object_id, table.c.lease_owner == owner)
        .values(lease_expires_at=now + dt.timedelta(seconds=lease_seconds)))
    return result.rowcount == 1


def release(session: Session, table: sa.Table, object_id: str, owner: str,
            started_at: dt.datetime, next_due: dt.datetime) -> None:
    """Give the lease back, schedule the next periodic reconcile, and clear the
    requests this reconcile served (those made before ``started_at``). Nothing
    happens if ``owner`` lost the lease meanwhile."""
    held = sa.and_(table.c.id == object_id, table.c.lease_owner == owner)
    session.execute(sa.update(table).where(
        held, table.c.requested_at <= _sql.now_utc(started_at)).values(requested_at=None))
    session.execute(sa.update(table).where(held).values(
        lease_owner=None, lease_expires_at=None, due_at=_sql.now_utc(next_due)))


def request(session: Session, table: sa.Table, object_id: str,
            now: dt.datetime | None = None) -> None:
    """Ask for a reconcile of the object as soon as possible."""
    session.execute(sa.update(table).where(table.c.id == object_id)
                    .values(requested_at=_sql.now_utc(now)))


def set_status(session: Session, table: sa.Table, object_id: str, status: str,
               error: str | None, now: dt.datetime | None = None) -> None:
    """Record an object's status and error (None clears it)."""
    session.execute(sa.update(table).where(table.c.id == object_id).values(
        status=status, error=error, updated_at=_sql.now_utc(now)))
