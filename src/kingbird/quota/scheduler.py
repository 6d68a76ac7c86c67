"""Decides which projects to sync when, and runs them on a bounded pool.

Scheduling and syncing are split so that several engines share the work:

- The *scheduler* (one engine at a time: the holder of the coordinator's
  ``quota-scheduler`` role) lists the projects every ``[quota] sync_interval`` —
  Keystone's, and those with global limits — and records each in the database
  schedule. A project it has not seen before is due at once.
- *Every* engine claims due projects from the database (an on-demand request
  first, then projects never synced or synced longest ago), one per free worker,
  each with a lease (``db.quota_schedule``); a worker that finishes a project
  claims the next one at once. A project is due again ``sync_interval`` after its
  last sync ended, so the load spreads itself over the interval and the engines.
  A project whose last escrow sync found it contended (usage near a global
  limit and moving) is due again after ``[quota] contended_sync_interval``
  instead, behind the projects due periodically.
- Each sync also holds the project's coordination lock: two engines never sync
  one project at once, even when a stalled engine's lease has expired.

An engine killed mid-sync loses nothing: its lease expires, the project is still
due, and another engine syncs it (counted as a lease reclaim).
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import NamedTuple

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from kingbird.core import metrics
from kingbird.core.exceptions import KingbirdError
from kingbird.engine.coordination import SCHEDULER, Coordinator, LocalCoordinator
from kingbird.quota import repository as quota_db
from kingbird.quota import schedule_repository as schedule_db
from kingbird.quota.syncer import QuotaSyncer

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


class QuotaScheduler:
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
        self.syncer = syncer
        self.db = db
        self.list_projects = list_projects
        self.owner = owner
        self.sync_interval = sync_interval
        self.contended_interval = contended_interval
        self.lease_seconds = lease_seconds
        self.workers = workers
        self.coordinator = coordinator or LocalCoordinator()
        self._pool = cf.ThreadPoolExecutor(max_workers=workers,
                                           thread_name_prefix="kingbird-quota")
        self._running = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._next_cycle = time.monotonic()
        self.cycles = 0

    # -- worker protocol -------------------------------------------------------------

    def tick(self) -> None:
        """Schedule if this engine is the scheduler and it is time; claim due projects
        for the free workers and start them. Returns at once."""
        if self._stopping.is_set():
            return
        ticked_at = _utcnow()
        if time.monotonic() >= self._next_cycle and self.coordinator.is_leader(SCHEDULER):
            self._next_cycle = time.monotonic() + self.sync_interval
            self._schedule()
            self.cycles += 1
        # Measured from the tick, not from each claim: a project synced since this tick
        # began is not due again in this round, even with a sync interval of zero
        # (the benchmarks' "one cycle now").
        due = _Due(ticked_at - dt.timedelta(seconds=self.sync_interval),
                   None if self.contended_interval is None
                   else ticked_at - dt.timedelta(seconds=self.contended_interval))
        with self._lock:
            free = self.workers - self._running
        if free <= 0:
            return
        for claimed in self._claim(free, due):
            with self._lock:
                self._running += 1
            self._pool.submit(self._chain, claimed, due)

    def idle(self) -> bool:
        with self._lock:
            return self._running == 0

    def shutdown(self) -> None:
        self._stopping.set()
        self._pool.shutdown(wait=True, cancel_futures=True)

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

    def _claim(self, limit: int, due: _Due) -> list[schedule_db.ClaimedProject]:
        with self.db() as session:
            return schedule_db.claim_due_projects(session, self.owner, self.lease_seconds,
                                             due.synced_before, limit,
                                             contended_before=due.contended_before)

    # -- syncing -----------------------------------------------------------------------

    def _chain(self, claimed: schedule_db.ClaimedProject, due: _Due) -> None:
        """Sync ``claimed``, then the next due project, until none is left."""
        try:
            current: schedule_db.ClaimedProject | None = claimed
            while current is not None and not self._stopping.is_set():
                self._sync(current)
                try:
                    more = self._claim(1, due)
                except SQLAlchemyError as exc:
                    LOG.warning("cannot claim the next project to sync: %s", exc)
                    more = []
                current = more[0] if more else None
        finally:
            with self._lock:
                self._running -= 1

    def _sync(self, claimed: schedule_db.ClaimedProject) -> None:
        project_id = claimed.project_id
        if claimed.reclaimed:
            metrics.LEASE_RECLAIMS.labels("project_sync").inc()
            LOG.info("quota sync of %s taken over from an engine whose lease expired",
                     project_id)
        started_at = _utcnow()
        try:
            with self.coordinator.exclusive(f"quota-{project_id}") as ours:
                if not ours:
                    # Another engine is syncing it (its lease expired while it worked):
                    # leave ours to expire; by then the project will have been synced.
                    LOG.info("quota sync of %s skipped: another engine holds its lock",
                             project_id)
                    return
                LOG.info("quota sync of %s started", project_id)
                outcome = self.syncer.sync(project_id, owner=self.owner, started_at=started_at)
                LOG.info("quota sync of %s ended: %s", project_id, outcome.outcome)
            metrics.QUOTA_SYNCS.labels(outcome.outcome).inc()
        except (KingbirdError, SQLAlchemyError) as exc:
            metrics.QUOTA_SYNCS.labels("INTERRUPTED").inc()
            LOG.warning("quota sync of %s interrupted: %s", project_id, exc)
        except Exception:
            metrics.QUOTA_SYNCS.labels("INTERRUPTED").inc()
            LOG.exception("quota sync of %s crashed", project_id)
