"""Repository of per-project quota sync state: last outcome, on-demand requests,
and the lease an engine holds while it syncs a project (``kingbird.db.leases``;
the lease is taken by ``kingbird.quota.schedule_repository.claim_due_projects``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import TypedDict

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kingbird.db import leases
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


def renew_project_leases(session: Session, project_ids: Collection[str], owner: str,
                         lease_seconds: float, now: dt.datetime | None = None) -> list[str]:
    """Extend the leases ``owner`` holds on projects' syncs.

    :returns: the projects whose lease ``owner`` still holds; another engine took
        over the others.
    """
    now = _sql.now_utc(now)
    return leases.renew(session, _status, project_ids, owner, lease_seconds,
                        values={"updated_at": now}, now=now)


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
    leases.release(session, _status, project_id, owner)
    request_served = where
    if started_at is not None:
        request_served = sa.and_(where, _status.c.requested_at <= _sql.now_utc(started_at))
    session.execute(sa.update(_status).where(request_served).values(requested_at=None))

