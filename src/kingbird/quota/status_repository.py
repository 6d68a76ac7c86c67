"""Repository of per-project quota sync state: last outcome, on-demand requests,
and the lease an engine holds while it syncs a project.

A lease is a compare-and-set on one row (``UPDATE ... WHERE lease free or
expired``): whichever engine's UPDATE matches the row owns the sync, on SQLite
(writers are serialised by the database lock) as on PostgreSQL and MySQL (the
row lock taken by the UPDATE makes the second engine re-check the condition
against the committed row).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TypedDict

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kingbird.db import sql as _sql
from kingbird.quota.models import SYNC_OUTCOMES, ProjectSyncStatus

_status: sa.Table = ProjectSyncStatus.__table__  # type: ignore[assignment]


class SyncStatus(TypedDict):
    """Quota sync state of one project (datetimes are aware UTC)."""

    project_id: str
    last_sync_at: dt.datetime | None
    outcome: str | None  # SUCCESS, FAILURE or IN_PROGRESS; None before the first sync
    failed_regions: list[str]
    reason: str | None
    requested_at: dt.datetime | None  # an on-demand sync is waiting since then
    contended: bool  # due again after [quota] contended_sync_interval
    lease_owner: str | None  # the engine syncing the project now, if any
    lease_expires_at: dt.datetime | None


_FIELDS = tuple(SyncStatus.__annotations__)


def _ensure_row(session: Session, project_id: str, now: dt.datetime) -> None:
    _sql.upsert(
        session, _status,
        [{"project_id": project_id, "failed_regions": [], "created_at": now,
          "updated_at": now}],
        keys=["project_id"], update=[],
    )


def get_sync_status(session: Session, project_id: str) -> SyncStatus | None:
    """The quota sync state of a project, or None if it was never synced nor
    requested."""
    row = session.execute(
        sa.select(*(_status.c[f] for f in _FIELDS)).where(_status.c.project_id == project_id)
    ).one_or_none()
    if row is None:
        return None
    status = SyncStatus(**row._mapping)  # type: ignore[typeddict-item]
    status["failed_regions"] = list(status["failed_regions"] or [])
    return status


def request_project_sync(session: Session, project_id: str,
                         now: dt.datetime | None = None) -> None:
    """Ask the engines for a sync of the project as soon as possible.

    ``requested_at`` is set to ``now`` even when a request is already pending: a
    sync that started before this request must not count as serving it.
    """
    now = _sql.now_utc(now)
    _sql.upsert(
        session, _status,
        [{"project_id": project_id, "failed_regions": [], "requested_at": now,
          "created_at": now, "updated_at": now}],
        keys=["project_id"], update=["requested_at", "updated_at"],
    )


def claim_project_sync(session: Session, project_id: str, owner: str, lease_seconds: float,
                       now: dt.datetime | None = None) -> bool:
    """Take the lease on a project's sync if no engine holds a live one.

    Atomic across processes: of two engines claiming at once, one gets True.
    Commit soon after, so that the row lock (server databases) or the write lock
    (SQLite) is not held for the length of the sync.

    :param owner: the engine's id, recorded as ``lease_owner``.
    :param lease_seconds: how long the lease lasts without renewal.
    :returns: True if ``owner`` now holds the lease.
    """
    now = _sql.now_utc(now)
    _ensure_row(session, project_id, now)
    result = session.execute(
        sa.update(_status)
        .where(
            _status.c.project_id == project_id,
            sa.or_(
                _status.c.lease_owner.is_(None),
                _status.c.lease_expires_at.is_(None),
                _status.c.lease_expires_at <= now,
            ),
        )
        .values(lease_owner=owner,
                lease_expires_at=now + dt.timedelta(seconds=lease_seconds),
                updated_at=now)
    )
    return result.rowcount == 1


def renew_project_lease(session: Session, project_id: str, owner: str, lease_seconds: float,
                        now: dt.datetime | None = None) -> bool:
    """Extend the lease ``owner`` holds on a project's sync.

    :returns: False if ``owner`` no longer holds it (another engine took over).
    """
    now = _sql.now_utc(now)
    result = session.execute(
        sa.update(_status)
        .where(_status.c.project_id == project_id, _status.c.lease_owner == owner)
        .values(lease_expires_at=now + dt.timedelta(seconds=lease_seconds), updated_at=now)
    )
    return result.rowcount == 1


def record_sync_result(session: Session, project_id: str, outcome: str,
                       failed_regions: Sequence[str], reason: str | None,
                       now: dt.datetime | None = None, *, owner: str | None = None,
                       started_at: dt.datetime | None = None,
                       contended: bool = False) -> None:
    """Record the outcome of a project's sync and release the lease.

    :param outcome: ``SUCCESS``, ``FAILURE`` or ``IN_PROGRESS``.
    :param failed_regions: names of the regions that could not be synced.
    :param reason: why it failed, for the operator; None on success.
    :param owner: when given, the lease is released only if ``owner`` still
        holds it (it may have expired and been taken by another engine).
    :param started_at: when given, a sync request made after this time is kept
        pending (this sync may have read the limits before they changed);
        otherwise any pending request is cleared.
    :raises ValueError: unknown outcome.
    """
    if outcome not in SYNC_OUTCOMES:
        raise ValueError(f"unknown sync outcome {outcome!r}")
    now = _sql.now_utc(now)
    _ensure_row(session, project_id, now)
    where = _status.c.project_id == project_id
    session.execute(
        sa.update(_status).where(where).values(
            last_sync_at=now, outcome=outcome, failed_regions=list(failed_regions),
            reason=reason, contended=contended, updated_at=now,
        )
    )
    lease_held = where if owner is None else sa.and_(where, _status.c.lease_owner == owner)
    session.execute(
        sa.update(_status).where(lease_held).values(lease_owner=None, lease_expires_at=None)
    )
    request_served = where
    if started_at is not None:
        request_served = sa.and_(where, _status.c.requested_at <= _sql.now_utc(started_at))
    session.execute(sa.update(_status).where(request_served).values(requested_at=None))


def projects_with_pending_sync_requests(session: Session) -> list[str]:
    """Ids of the projects with an on-demand sync waiting, oldest request first."""
    rows = session.execute(
        sa.select(_status.c.project_id)
        .where(_status.c.requested_at.is_not(None))
        .order_by(_status.c.requested_at, _status.c.project_id)
    )
    return list(rows.scalars())
