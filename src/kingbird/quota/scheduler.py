"""Decides which projects to sync when, and runs them on a bounded pool.

Scheduling and syncing are split so that several engines share the work:

- The *scheduler* (one engine at a time: the holder of the coordinator's
  ``quota-scheduler`` role) lists the projects every ``[quota] sync_interval`` —
  Keystone's, and those with global limits — and records each in the database
  schedule. A project it has not seen before is due at once.
- *Every* engine claims due projects from the database (an on-demand request
  first, then projects never synced or synced longest ago), one per free worker,
  each with a lease (``kingbird.quota.schedule_repository``), renewed in the
  background while the sync runs (``kingbird.engine.leased_work``); a worker
  that finishes a project claims the next one at once. A project is due again
  ``sync_interval`` after its last sync ended, so the load spreads itself over
  the interval and the engines.
  A project whose last escrow sync found it contended (usage near a global
  limit and moving) is due again after ``[quota] contended_sync_interval``
  instead, behind the projects due periodically.
- Each sync also holds the project's coordination lock: two engines never sync
  one project at once, even when a stalled engine's lease has expired.

An engine killed mid-sync loses nothing: its lease expires, the project is still
due, and another engine syncs it (counted as a lease reclaim). A sync interrupted
by an error records nothing and keeps its lease until it expires: the project is
due again after that.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Hashable
from contextlib import AbstractContextManager
from typing import NamedTuple

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from kingbird.core import metrics
from kingbird.core.exceptions import KingbirdError, LeaseLost
from kingbird.engine.coordination import SCHEDULER, Coordinator, LocalCoordinator
from kingbird.engine.leased_work import LeasedWork, LeasedWorker
from kingbird.quota import repository as quota_db
from kingbird.quota import schedule_repository as schedule_db
from kingbird.quota import status_repository as status_db
from kingbird.quota.syncer import QuotaSyncer, SyncOutcome

LOG = logging.getLogger(__name__)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def contended_interval(configured: float | None, sync_interval: float) -> float:
    """The contended sync interval in force: the configured one, else a quarter of
    the periodic interval."""
    return configured if configured else sync_interval / 4


class _Due(NamedTuple):
    """What makes a project due in one round of claims: its last sync ended before
    ``synced_before``, or before ``contended_before`` and it was contended."""

    synced_before: dt.datetime
    contended_before: dt.datetime | None


class ProjectSync(LeasedWork):
    """One claimed project: synced under its coordination lock; the syncer records
    the outcome and releases the lease."""

    expected = (KingbirdError,)

    def __init__(self, scheduler: QuotaScheduler, claimed: schedule_db.ClaimedProject):
        super().__init__(claimed.project_id, f"quota sync of {claimed.project_id}")
        self.scheduler = scheduler
        self.claimed = claimed
        self.outcome: SyncOutcome | None = None

    def run(self) -> None:
        project_id = self.claimed.project_id
        if self.claimed.reclaimed:
            metrics.LEASE_RECLAIMS.labels("project_sync").inc()
            LOG.info("quota sync of %s taken over from an engine whose lease expired",
                     project_id)
        started_at = _utcnow()
        with self.scheduler.coordinator.exclusive(f"quota-{project_id}") as ours:
            if not ours:
                # Another engine is syncing it (its lease expired while it worked):
                # leave ours to expire; by then the project will have been synced.
                LOG.info("quota sync of %s skipped: another engine holds its lock",
                         project_id)
                return
            LOG.info("quota sync of %s started", project_id)
            self.outcome = self.scheduler.syncer.sync(project_id, owner=self.scheduler.owner,
                                                      started_at=started_at)
            LOG.info("quota sync of %s ended: %s", project_id, self.outcome.outcome)

    def finish(self) -> None:
        if self.outcome is not None:
            metrics.QUOTA_SYNCS.labels(self.outcome.outcome).inc()

    def fail(self, reason: str) -> None:
        # Nothing to record: the project stays due, synced again once the lease expires.
        metrics.QUOTA_SYNCS.labels("INTERRUPTED").inc()
        LOG.warning("quota sync of %s interrupted: %s", self.key, reason)

    def lost(self, exc: LeaseLost | SQLAlchemyError) -> None:
        super().lost(exc)
        metrics.QUOTA_SYNCS.labels("INTERRUPTED").inc()


class QuotaScheduler(LeasedWorker):
    """The engine worker of quota syncs.

    :param syncer: syncs one project.
    :param db: opens a transaction.
    :param list_projects: the projects to sync periodically (Keystone's).
    :param owner: this engine's name in leases.
    :param sync_interval: seconds between two syncs of a project.
    :param lease_seconds: how long a claim on a project lasts without renewal.
    :param workers: projects synced at once by this engine.
    :param coordinator: one scheduler at a time, one engine per project;
        in-process when None.
    :param contended_interval: seconds between two syncs of a contended project;
        None: contended projects wait ``sync_interval`` like the others.
    """

    def __init__(self, syncer: QuotaSyncer,
                 db: Callable[[], AbstractContextManager[Session]],
                 list_projects: Callable[[], list[str]], owner: str, *,
                 sync_interval: float, lease_seconds: float, workers: int,
                 coordinator: Coordinator | None = None,
                 contended_interval: float | None = None):
        super().__init__(owner, workers=workers, lease_seconds=lease_seconds, name="quota")
        self.syncer = syncer
        self.db = db
        self.list_projects = list_projects
        self.sync_interval = sync_interval
        self.contended_interval = contended_interval
        self.coordinator = coordinator or LocalCoordinator()
        self._next_cycle = time.monotonic()
        self._due: _Due | None = None
        self.cycles = 0

    # -- worker protocol -------------------------------------------------------------

    def tick(self) -> None:
        """Schedule if this engine is the scheduler and it is time; claim due projects
        for the free workers and start them. Returns at once."""
        if self.stopping.is_set():
            return
        ticked_at = _utcnow()
        if time.monotonic() >= self._next_cycle and self.coordinator.is_leader(SCHEDULER):
            self._next_cycle = time.monotonic() + self.sync_interval
            self._schedule()
            self.cycles += 1
        # Measured from the tick, not from each claim: a project synced since this tick
        # began is not due again in this round, even with a sync interval of zero
        # (the benchmarks' "one cycle now").
        self._due = _Due(ticked_at - dt.timedelta(seconds=self.sync_interval),
                         None if self.contended_interval is None
                         else ticked_at - dt.timedelta(seconds=self.contended_interval))
        self.fill()

    # -- scheduling --------------------------------------------------------------------

    def _schedule(self) -> None:
        with self.db() as session:
            known = quota_db.projects_with_limits(session)
        try:
            known += self.list_projects()
        except KingbirdError as exc:
            LOG.warning("cannot list projects from Keystone, scheduling only those with "
                        "limits: %s", exc.message)
        with self.db() as session:
            schedule_db.schedule_projects(session, known)

    # -- leased work -------------------------------------------------------------------

    def claim(self, limit: int) -> list[LeasedWork]:
        due = self._due
        if due is None:
            return []
        with self.db() as session:
            claimed = schedule_db.claim_due_projects(session, self.owner, self.lease_seconds,
                                                     due.synced_before, limit,
                                                     contended_before=due.contended_before)
        return [ProjectSync(self, project) for project in claimed]

    def renew(self, keys: list[Hashable]) -> list[str]:
        with self.db() as session:
            return status_db.renew_project_leases(session, keys,  # type: ignore[arg-type]
                                                  self.owner, self.lease_seconds)
