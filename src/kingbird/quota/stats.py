"""Counts over the projects' quota syncs recorded in the database, for
monitoring: outcomes, what is due, requests waiting, leases expired. Read-only."""

from __future__ import annotations

import datetime as dt
from typing import TypedDict

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kingbird.db import sql
from kingbird.quota.models import ProjectSyncStatus

_status: sa.Table = ProjectSyncStatus.__table__  # type: ignore[assignment]


class SyncStats(TypedDict):
    projects: dict[str, int]  # last quota sync outcome ("NONE": never synced) -> projects
    projects_due: int  # projects whose quota sync is due now
    projects_requested: int  # on-demand quota sync requests waiting
    project_leases_expired: int  # project syncs whose engine stopped renewing the lease
    oldest_sync_age: float | None  # seconds since the least recently synced project


def sync_stats(session: Session, sync_interval: float,
               now: dt.datetime | None = None) -> SyncStats:
    """Counts of the projects' quota syncs, by outcome and by what is due."""
    now = sql.now_utc(now)
    outcomes = {outcome or "NONE": n for outcome, n in session.execute(
        sa.select(_status.c.outcome, sa.func.count()).group_by(_status.c.outcome)).all()}
    due = session.execute(sa.select(sa.func.count()).where(sa.or_(
        _status.c.requested_at.is_not(None), _status.c.last_sync_at.is_(None),
        _status.c.last_sync_at < now - dt.timedelta(seconds=sync_interval)))).scalar_one()
    requested = session.execute(sa.select(sa.func.count()).where(
        _status.c.requested_at.is_not(None))).scalar_one()
    leases_expired = session.execute(sa.select(sa.func.count()).where(
        _status.c.lease_owner.is_not(None), _status.c.lease_expires_at <= now)).scalar_one()
    oldest = session.execute(sa.select(sa.func.min(_status.c.last_sync_at))).scalar_one()
    return SyncStats(
        projects=outcomes, projects_due=int(due),
        projects_requested=int(requested), project_leases_expired=int(leases_expired),
        oldest_sync_age=None if oldest is None
        else max(0.0, (now - sql.now_utc(oldest)).total_seconds()))
