"""The schedule of periodic quota syncs, spread over the engines.

The scheduler (one engine at a time) records every project it finds
(``schedule_projects``); every engine then claims the projects that are due
(``claim_due_projects``), one at a time, with the lease of ``sync_status``: an
on-demand request first (oldest first), then the projects never synced or
synced longest ago. A project whose last sync found it contended (scarce,
moving headroom) is due again sooner, after ``contended_before``; it still comes
after the projects that are due periodically and were synced longer ago. A
project is claimed by one engine only (``kingbird.db.leases.claim_first``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kingbird.db import leases
from kingbird.db import sql as _sql
from kingbird.quota.models import ProjectSyncStatus

_status: sa.Table = ProjectSyncStatus.__table__  # type: ignore[assignment]


class ClaimedProject(NamedTuple):
    project_id: str
    #: the lease was another engine's and had expired (that engine died or hung)
    reclaimed: bool


def schedule_projects(session: Session, project_ids: Iterable[str],
                      now: dt.datetime | None = None) -> None:
    """Make sure every project has a schedule row; a new one is due at once.

    Rows already there are left as they are (one statement, so schedulers racing
    cannot fail on a duplicate key).
    """
    now = _sql.now_utc(now)
    rows = [{"project_id": p, "failed_regions": [], "created_at": now, "updated_at": now}
            for p in dict.fromkeys(project_ids)]
    for start in range(0, len(rows), 500):
        _sql.upsert(session, _status, rows[start:start + 500], keys=["project_id"], update=[])


def _due(synced_before: dt.datetime, contended_before: dt.datetime | None):
    due = [_status.c.requested_at.is_not(None), _status.c.last_sync_at.is_(None),
           _status.c.last_sync_at < synced_before]
    if contended_before is not None:
        due.append(sa.and_(_status.c.contended.is_(True),
                           _status.c.last_sync_at < contended_before))
    return sa.or_(*due)


# Requests first (oldest first), then never synced, then synced longest ago.
# CASE rather than NULLS FIRST/LAST, which MySQL lacks.
_ORDER = (
    sa.case((_status.c.requested_at.is_(None), 1), else_=0),
    _status.c.requested_at,
    sa.case((_status.c.last_sync_at.is_(None), 0), else_=1),
    _status.c.last_sync_at,
    _status.c.project_id,
)


def claim_due_projects(session: Session, owner: str, lease_seconds: float,
                       synced_before: dt.datetime, limit: int = 1,
                       now: dt.datetime | None = None,
                       contended_before: dt.datetime | None = None) -> list[ClaimedProject]:
    """Claim up to ``limit`` projects whose quota sync is due, with a lease.

    Due: an on-demand sync was requested, or the project was never synced, or its
    last sync ended before ``synced_before``, or before ``contended_before`` when
    that sync found it contended. Only projects whose lease is free or expired are
    claimed. Commit right after.

    :returns: the claimed projects, in the order they should be synced.
    """
    now = _sql.now_utc(now)
    synced_before = _sql.now_utc(synced_before)
    if contended_before is not None:
        contended_before = _sql.now_utc(contended_before)
    claimed = leases.claim_first(
        session, _status, owner, lease_seconds, limit=limit,
        where=_due(synced_before, contended_before), order_by=_ORDER,
        values={"updated_at": now}, now=now)
    return [ClaimedProject(c.key, c.previous_owner is not None) for c in claimed]
