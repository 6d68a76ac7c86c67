"""Bookkeeping shared by the objects engines keep converged (``ReconciledMixin``):
which are due, exclusive leases (``kingbird.db.leases``), on-demand requests.

An object is due when a reconcile was requested or its periodic one is due. Of
two engines claiming it at once exactly one wins. Finishing releases the lease
and clears only the requests made before the reconcile started: a change made
meanwhile is reconciled again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kingbird.db import leases
from kingbird.db import sql as _sql


def due(session: Session, table: sa.Table, now: dt.datetime | None = None,
        limit: int = 100) -> list[str]:
    """Ids of the objects to reconcile now and not leased, requested ones first."""
    now = _sql.now_utc(now)
    wanted = sa.or_(table.c.requested_at.is_not(None), table.c.due_at.is_(None),
                    table.c.due_at <= now)
    rows = session.execute(
        sa.select(table.c.id).where(wanted, leases.is_free(table, now))
        .order_by(table.c.requested_at.is_(None), table.c.requested_at, table.c.due_at,
                  table.c.id)
        .limit(limit))
    return list(rows.scalars())


def claim(session: Session, table: sa.Table, object_id: str, owner: str,
          lease_seconds: float, now: dt.datetime | None = None) -> bool:
    """Take the lease on one object if nobody holds a live one; True if taken."""
    return leases.claim(session, table, object_id, owner, lease_seconds, now=now)


def renew(session: Session, table: sa.Table, object_ids: Collection[str], owner: str,
          lease_seconds: float, now: dt.datetime | None = None) -> list[str]:
    """Extend ``owner``'s leases; the ids it still holds (it lost the others: they
    expired and were taken over, or were deleted)."""
    return leases.renew(session, table, object_ids, owner, lease_seconds, now=now)


def release(session: Session, table: sa.Table, object_id: str, owner: str,
            started_at: dt.datetime, next_due: dt.datetime) -> None:
    """Give the lease back, schedule the next periodic reconcile, and clear the
    requests this reconcile served (those made before ``started_at``). Nothing
    happens if ``owner`` lost the lease meanwhile."""
    session.execute(sa.update(table).where(
        table.c.id == object_id, leases.held_by(table, owner),
        table.c.requested_at <= _sql.now_utc(started_at)).values(requested_at=None))
    leases.release(session, table, object_id, owner, values={"due_at": _sql.now_utc(next_due)})


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
