"""Repository of resource sync jobs and their entries.

A job is what the user created (one POST to os-sync); each entry is one
resource to copy from the source region to one target region, the unit of work
that engines claim. An engine claims entries with a lease, renews it while it
works, and finishes each entry with its outcome; an entry whose lease expired
(its engine died) is claimed again by any engine. The job's status follows from
its entries' statuses.

Claims are exclusive (``kingbird.db.leases``): no entry is ever given to two
engines whose leases are both live. An entry put back after a transient failure
keeps no owner but an expiry: nobody claims it before its backoff is over.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypedDict

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kingbird.core import exceptions
from kingbird.db import leases
from kingbird.db import sql as _sql
from kingbird.sync.models import RESOURCE_TYPES, SyncJob, SyncJobEntry

_jobs: sa.Table = SyncJob.__table__  # type: ignore[assignment]
_entries: sa.Table = SyncJobEntry.__table__  # type: ignore[assignment]

_RUNNING = _entries.c.status == "IN_PROGRESS"


class Job(TypedDict):
    """A sync job (datetimes are aware UTC)."""

    id: str
    project_id: str
    user_id: str
    status: str  # IN_PROGRESS, SUCCESS or FAILURE
    request_id: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class JobEntry(TypedDict):
    """One resource of a job, copied from one region to another."""

    id: int
    job_id: str
    resource: str  # the name or id the user gave
    resource_type: str  # keypair, flavor, image or security_group
    source_region: str
    target_region: str
    force: bool
    status: str  # QUEUED, IN_PROGRESS, SUCCESS or FAILURE
    error: str | None
    attempts: int  # how many times an engine claimed it
    lease_owner: str | None  # the engine working on it (or that finished it)
    lease_expires_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    checkpoint: dict[str, Any] | None  # progress in the target, for a takeover


_JOB_COLUMNS = [_jobs.c[name] for name in Job.__annotations__]
_ENTRY_COLUMNS = [_entries.c[name] for name in JobEntry.__annotations__]


def _job(row: sa.Row) -> Job:
    return Job(**row._mapping)  # type: ignore[typeddict-item]


def _entry(row: sa.Row) -> JobEntry:
    return JobEntry(**row._mapping)  # type: ignore[typeddict-item]


def create_job(session: Session, project_id: str, user_id: str,
               entries: Sequence[Mapping[str, Any]], request_id: str | None = None,
               now: dt.datetime | None = None) -> Job:
    """Create a job and its entries, all QUEUED.

    :param entries: one mapping per (resource, target region), with keys
        ``resource``, ``resource_type``, ``source_region``, ``target_region`` and
        optionally ``force`` (default False).
    :param request_id: id of the API request, for log correlation.
    :returns: the new job.
    :raises ValueError: no entries, or an unknown resource type.
    """
    if not entries:
        raise ValueError("a sync job needs at least one entry")
    now = _sql.now_utc(now)
    job = Job(id=str(uuid.uuid4()), project_id=project_id, user_id=user_id,
              status="IN_PROGRESS", request_id=request_id, created_at=now, updated_at=now)
    rows = []
    for entry in entries:
        if entry["resource_type"] not in RESOURCE_TYPES:
            raise ValueError(f"unknown resource type {entry['resource_type']!r}")
        rows.append({
            "job_id": job["id"],
            "resource": entry["resource"],
            "resource_type": entry["resource_type"],
            "source_region": entry["source_region"],
            "target_region": entry["target_region"],
            "force": bool(entry.get("force", False)),
            "status": "QUEUED",
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
        })
    session.execute(sa.insert(_jobs).values(**job))
    session.execute(sa.insert(_entries), rows)
    return job


def list_jobs(session: Session, project_id: str, active_only: bool = False,
              after: Job | None = None, limit: int | None = None) -> list[Job]:
    """The jobs of a project, oldest first; only IN_PROGRESS ones if ``active_only``.

    :param after: only the jobs that come after this one in that order (a page's
        marker).
    :param limit: at most this many.
    """
    stmt = sa.select(*_JOB_COLUMNS).where(_jobs.c.project_id == project_id)
    if active_only:
        stmt = stmt.where(_jobs.c.status == "IN_PROGRESS")
    if after is not None:
        created = _sql.now_utc(after["created_at"])
        stmt = stmt.where(sa.or_(_jobs.c.created_at > created,
                                 sa.and_(_jobs.c.created_at == created,
                                         _jobs.c.id > after["id"])))
    stmt = stmt.order_by(_jobs.c.created_at, _jobs.c.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [_job(row) for row in session.execute(stmt)]


def get_job(session: Session, project_id: str, job_id: str) -> Job | None:
    """A job of the project, or None if there is none with that id in this project."""
    row = session.execute(
        sa.select(*_JOB_COLUMNS).where(_jobs.c.id == job_id, _jobs.c.project_id == project_id)
    ).one_or_none()
    return None if row is None else _job(row)


def find_job(session: Session, job_id: str) -> Job | None:
    """A job whatever its project (for the engine, which acts for every project)."""
    row = session.execute(
        sa.select(*_JOB_COLUMNS).where(_jobs.c.id == job_id)
    ).one_or_none()
    return None if row is None else _job(row)


def get_job_entries(session: Session, job_id: str) -> list[JobEntry]:
    """The entries of a job, in creation order (empty for an unknown job)."""
    rows = session.execute(
        sa.select(*_ENTRY_COLUMNS).where(_entries.c.job_id == job_id).order_by(_entries.c.id)
    )
    return [_entry(row) for row in rows]


def delete_job(session: Session, project_id: str, job_id: str) -> bool:
    """Delete a finished job of the project and its entries.

    :returns: True if deleted, False if the project has no such job.
    :raises kingbird.core.exceptions.NotAcceptable: the job is still in progress.
    """
    deleted = session.execute(
        sa.delete(_jobs).where(
            _jobs.c.id == job_id,
            _jobs.c.project_id == project_id,
            _jobs.c.status != "IN_PROGRESS",
        )
    ).rowcount
    if deleted:
        # The foreign key cascades already; this covers a database that ignores it.
        session.execute(sa.delete(_entries).where(_entries.c.job_id == job_id))
        return True
    if get_job(session, project_id, job_id) is not None:
        raise exceptions.NotAcceptable(f"Job {job_id} is in progress and cannot be deleted.")
    return False


def claim_entries(session: Session, owner: str, lease_seconds: float, limit: int,
                  now: dt.datetime | None = None) -> list[JobEntry]:
    """Claim up to ``limit`` entries to work on: QUEUED ones, and IN_PROGRESS ones
    whose lease expired (their engine died) or whose retry is due, oldest first.

    Claimed entries become IN_PROGRESS, owned by ``owner`` until ``now +
    lease_seconds``, with ``attempts`` counted up. No entry is ever returned to
    two engines whose leases are both live. Commit right after claiming.

    :returns: the claimed entries (as they are after the claim).
    """
    now = _sql.now_utc(now)
    claimed = leases.claim_first(
        session, _entries, owner, lease_seconds, limit=limit,
        where=_entries.c.status.in_(("QUEUED", "IN_PROGRESS")), order_by=[_entries.c.id],
        values={"status": "IN_PROGRESS", "attempts": _entries.c.attempts + 1,
                "updated_at": now},
        now=now)
    if not claimed:
        return []
    rows = session.execute(
        sa.select(*_ENTRY_COLUMNS).where(_entries.c.id.in_([c.key for c in claimed]))
        .order_by(_entries.c.id)
    )
    return [_entry(row) for row in rows]


def renew_lease(session: Session, entry_ids: Iterable[int], owner: str, lease_seconds: float,
                now: dt.datetime | None = None) -> list[int]:
    """Extend ``owner``'s lease on entries it is working on.

    :returns: the ids whose lease was renewed; an id missing from it was taken
        over by another engine (or finished), and its work should stop.
    """
    now = _sql.now_utc(now)
    return leases.renew(session, _entries, list(entry_ids), owner, lease_seconds,
                        where=_RUNNING, values={"updated_at": now}, now=now)


def record_checkpoint(session: Session, entry_id: int, owner: str,
                      checkpoint: Mapping[str, Any] | None,
                      now: dt.datetime | None = None) -> bool:
    """Record how far ``owner`` got with an entry, if it still holds the lease.

    Engines write it before each change they make in the target region and commit
    at once, so that whoever resumes the entry knows what may already be there.

    :returns: False (and nothing changes) if the lease was lost.
    """
    now = _sql.now_utc(now)
    return bool(session.execute(
        sa.update(_entries)
        .where(_entries.c.id == entry_id, leases.held_by(_entries, owner), _RUNNING)
        .values(checkpoint=None if checkpoint is None else dict(checkpoint), updated_at=now)
    ).rowcount)


def finish_entry(session: Session, entry_id: int, owner: str, status: str,
                 error: str | None = None, now: dt.datetime | None = None) -> bool:
    """Record the outcome of an entry, if ``owner`` still holds its lease, and
    bring the job's status up to date: SUCCESS when every entry succeeded,
    FAILURE when all are finished and one failed, IN_PROGRESS otherwise.

    Call it in a transaction of its own: on MySQL a snapshot taken by an earlier
    read in the same transaction would hide other engines' finished entries.

    :param status: ``SUCCESS`` or ``FAILURE``.
    :param error: what went wrong, shown to the user.
    :returns: False (and nothing changes) if the lease was lost.
    :raises ValueError: ``status`` is not a final status.
    """
    if status not in ("SUCCESS", "FAILURE"):
        raise ValueError(f"an entry finishes with SUCCESS or FAILURE, not {status!r}")
    now = _sql.now_utc(now)
    # The entry keeps naming the engine that finished it.
    if not leases.release(session, _entries, entry_id, owner, keep_owner=True, where=_RUNNING,
                          values={"status": status, "error": error, "updated_at": now}):
        return False
    # Locking reads only until the job row is locked: two engines finishing the
    # last two entries of a job take turns here, and the second one counts with
    # the first one's entry committed (otherwise both would see the other still
    # IN_PROGRESS and the job would never finish).
    job_id = session.execute(
        sa.select(_entries.c.job_id).where(_entries.c.id == entry_id).with_for_update()
    ).scalar_one()
    session.execute(sa.select(_jobs.c.id).where(_jobs.c.id == job_id).with_for_update())
    statuses = list(session.execute(
        sa.select(_entries.c.status).where(_entries.c.job_id == job_id)
    ).scalars())
    session.execute(
        sa.update(_jobs)
        .where(_jobs.c.id == job_id, _jobs.c.status != job_status(statuses))
        .values(status=job_status(statuses), updated_at=now)
    )
    return True


def retry_entry(session: Session, entry_id: int, owner: str, error: str, delay: float,
                now: dt.datetime | None = None) -> bool:
    """Put back an entry that failed for a transient reason (a region down, timing
    out, answering 5xx), if ``owner`` still holds its lease: any engine claims it
    again once ``delay`` seconds have passed. Until then it stays IN_PROGRESS with
    the reason in ``error``, so the user sees why it waits.

    :returns: False (and nothing changes) if the lease was lost.
    """
    now = _sql.now_utc(now)
    return leases.release(session, _entries, entry_id, owner,
                          until=now + dt.timedelta(seconds=delay), where=_RUNNING,
                          values={"error": error, "updated_at": now})


def job_status(entry_statuses: Iterable[str]) -> str:
    """The status of a job whose entries have these statuses (pure)."""
    statuses = list(entry_statuses)
    if all(s == "SUCCESS" for s in statuses):
        return "SUCCESS"
    if all(s in ("SUCCESS", "FAILURE") for s in statuses):
        return "FAILURE"
    return "IN_PROGRESS"
