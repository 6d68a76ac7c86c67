"""Counts over the sync jobs recorded in the database, for monitoring: how much
waits, how it ended, how much was taken over. Read-only."""

from __future__ import annotations

import datetime as dt
from typing import TypedDict

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kingbird.db import sql
from kingbird.sync.models import SyncJob, SyncJobEntry

_jobs: sa.Table = SyncJob.__table__  # type: ignore[assignment]
_entries: sa.Table = SyncJobEntry.__table__  # type: ignore[assignment]


class JobStats(TypedDict):
    jobs: dict[str, int]  # job status -> jobs
    entries: dict[str, int]  # entry status -> entries
    entries_claimable: int  # QUEUED, or IN_PROGRESS with an expired lease: claimable now
    entries_waiting_retry: int  # put back after a transient failure, backoff not over
    entries_claimed_again: int  # claims beyond the first, over all entries


def job_stats(session: Session, now: dt.datetime | None = None) -> JobStats:
    """Counts of sync jobs and their entries."""
    now = sql.now_utc(now)
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
    return JobStats(
        jobs={k: int(v) for k, v in jobs.items()},
        entries={k: int(v) for k, v in entries.items()},
        entries_claimable=int(claimable), entries_waiting_retry=int(waiting),
        entries_claimed_again=int(again))
