"""Counts over the work recorded in the database, for monitoring: how much waits,
how it ended, how much was taken over. Read-only."""

from __future__ import annotations

import datetime as dt
from typing import TypedDict

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kingbird.db import sql as _sql
from kingbird.quota.models import ProjectSyncStatus
from kingbird.sync.models import SyncJob, SyncJobEntry

_jobs: sa.Table = SyncJob.__table__  # type: ignore[assignment]
_entries: sa.Table = SyncJobEntry.__table__  # type: ignore[assignment]
_status: sa.Table = ProjectSyncStatus.__table__  # type: ignore[assignment]


class WorkStats(TypedDict):
    jobs: dict[str, int]  # job status -> jobs
    entries: dict[str, int]  # entry status -> entries
    entries_claimable: int  # QUEUED, or IN_PROGRESS with an expired lease: claimable now
    entries_waiting_retry: int  # put back after a transient failure, backoff not over
    entries_claimed_again: int  # claims beyond the first, over all entries
    projects: dict[str, int]  # last quota sync outcome ("NONE": never synced) -> projects
    projects_due: int  # projects whose quota sync is due now
    projects_requested: int  # on-demand quota sync requests waiting
    project_leases_expired: int  # project syncs whose engine stopped renewing the lease
    oldest_sync_age: float | None  # seconds since the least recently synced project


def work_stats(session: Session, sync_interval: float,
               now: dt.datetime | None = None) -> WorkStats:
    """Counts of sync jobs, their entries and the projects' quota syncs."""
    now = _sql.now_utc(now)
    jobs = dict(session.execute(
        sa.select(_jobs.c.status, sa.func.count()).group_by(_jobs.c.status)).all())
    entries = dict(session.execute(
        sa.select(_entries.c.status, sa.func.count()).group_by(_entries.c.status)).all())
    in_progress = _entries.c.status == "IN_PROGRESS"
    expired = sa.and_(in_progress, _entries.c.lease_expires_at <= now)
    claimable = session.execute(sa.select(sa.func.count()).where(
        sa.or_(_entries.c.status == "QUEUED", expired))).scalar_one()
    waiting = session.execute(sa.select(sa.func.count()).where(
        in_progress, _entries.c.lease_owner.is_(None),
        _entries.c.lease_expires_at > now)).scalar_one()
    again = session.execute(sa.select(
        sa.func.coalesce(sa.func.sum(_entries.c.attempts - 1), 0)).where(
        _entries.c.attempts > 1)).scalar_one()
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
    return WorkStats(
        jobs={k: int(v) for k, v in jobs.items()},
        entries={k: int(v) for k, v in entries.items()},
        entries_claimable=int(claimable), entries_waiting_retry=int(waiting),
        entries_claimed_again=int(again), projects=outcomes, projects_due=int(due),
        projects_requested=int(requested), project_leases_expired=int(leases_expired),
        oldest_sync_age=None if oldest is None
        else max(0.0, (now - _sql.now_utc(oldest)).total_seconds()))
