"""Runs the entries of resource sync jobs: claimed with a lease, in parallel with a bound.

Each tick claims as many QUEUED entries (or entries whose engine died: their
lease expired) as there are free workers, and runs each on the pool through the
copier of its resource type. While entries run, a renewal thread extends their
leases every third of ``lease_seconds``; an entry whose lease could not be
renewed was taken over by another engine, and its copy is stopped at the next
checkpoint. The outcome is recorded with ``finish_entry``, which also updates
the job's status.

Nothing is lost if the engine dies: the entry stays IN_PROGRESS until its lease
expires, then any engine claims it again and the copier resumes from the
entry's checkpoint.

An entry that fails for a transient reason (a region down, timing out, answering
5xx) is put back with its reason and claimed again after a backoff, up to
``entry_retries`` times, so a region that comes back in time is served without
anyone retrying by hand. While an entry runs, its log lines carry the id of the
API request that created its job.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from kingbird.core import metrics, requestlog
from kingbird.core.exceptions import KingbirdError, RegionError
from kingbird.regions.copying import Copier, EntryFailed, LeaseLost, Scope, Task
from kingbird.sync import repository as jobs_db

LOG = logging.getLogger(__name__)


class EntryProgress:
    """``Progress`` of one running entry: its checkpoint in the database, and
    whether the entry is still ours."""

    def __init__(self, runner: JobRunner, entry: jobs_db.JobEntry):
        self._runner = runner
        self.entry_id = entry["id"]
        self._checkpoint = entry.get("checkpoint")
        self.lost = threading.Event()

    @property
    def checkpoint(self) -> dict[str, Any] | None:
        return self._checkpoint

    def save(self, checkpoint: dict[str, Any]) -> None:
        self.check()
        with self._runner.db() as session:
            kept = jobs_db.record_checkpoint(session, self.entry_id, self._runner.owner,
                                            checkpoint)
        if not kept:
            self.lost.set()
            raise LeaseLost(f"entry {self.entry_id} was taken over")
        self._checkpoint = dict(checkpoint)

    def check(self) -> None:
        if self.lost.is_set() or self._runner.stopping.is_set():
            raise LeaseLost(f"entry {self.entry_id} is no longer ours")


class JobRunner:
    """The engine worker of sync jobs.

    :param copiers: resource type → its copier.
    :param db: opens a transaction.
    :param owner: this engine's name in leases.
    :param workers: entries run at once (``[engine] job_workers``).
    :param lease_seconds: how long a claim lasts without renewal.
    :param entry_retries: transient failures of an entry retried before it fails.
    :param retry_backoff: seconds before the first retry, doubled at each one.
    """

    MAX_BACKOFF = 60.0

    def __init__(self, copiers: Mapping[str, Copier],
                 db: Callable[[], AbstractContextManager[Session]], owner: str, *,
                 workers: int, lease_seconds: float, entry_retries: int = 0,
                 retry_backoff: float = 1.0):
        self.copiers = dict(copiers)
        self.db = db
        self.owner = owner
        self.workers = workers
        self.lease_seconds = lease_seconds
        self.entry_retries = entry_retries
        self.retry_backoff = retry_backoff
        self.stopping = threading.Event()
        self._pool = cf.ThreadPoolExecutor(max_workers=workers,
                                           thread_name_prefix="kingbird-job")
        self._running: dict[int, EntryProgress] = {}
        self._lock = threading.Lock()
        self._claiming = threading.Lock()  # one claim at a time: never over the bound
        self._renewer = threading.Thread(target=self._renew_loop, name="kingbird-job-leases",
                                         daemon=True)
        self._renewer.start()

    # -- worker protocol -------------------------------------------------------------

    def tick(self) -> None:
        """Claim entries for the free workers and start them; returns at once."""
        if self.stopping.is_set():
            return
        with self._claiming:
            with self._lock:
                free = self.workers - len(self._running)
            if free <= 0:
                return
            with self.db() as session:
                claimed = jobs_db.claim_entries(session, self.owner, self.lease_seconds, free)
            for entry in claimed:
                progress = EntryProgress(self, entry)
                with self._lock:
                    self._running[entry["id"]] = progress
                self._pool.submit(self._run, entry, progress)

    def shutdown(self) -> None:
        """Stop copies at their next checkpoint; their leases expire and another
        engine (or this one, restarted) resumes them."""
        self.stopping.set()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def idle(self) -> bool:
        with self._lock:
            return not self._running

    # -- one entry --------------------------------------------------------------------

    def _run(self, entry: jobs_db.JobEntry, progress: EntryProgress) -> None:
        try:
            if entry["attempts"] > 1 and entry["error"] is None:
                # Claimed again without a recorded retry: its engine stopped renewing.
                metrics.LEASE_RECLAIMS.labels("sync_entry").inc()
            job = None
            try:
                with self.db() as session:
                    job = jobs_db.find_job(session, entry["job_id"])
            except SQLAlchemyError as exc:
                LOG.warning("sync entry %s interrupted by the database: %s", entry["id"], exc)
                metrics.SYNC_ENTRIES.labels(entry["resource_type"], "LOST").inc()
                return
            with requestlog.bound(job["request_id"] if job else None):
                outcome = self._execute(entry, progress, job)
                if outcome is not None:
                    self._finish(entry, *outcome)
                else:
                    metrics.SYNC_ENTRIES.labels(entry["resource_type"], "LOST").inc()
        finally:
            with self._lock:
                self._running.pop(entry["id"], None)
            self._refill()

    def _refill(self) -> None:
        """A worker is free: claim the next entry now rather than at the next poll."""
        if self.stopping.is_set():
            return
        try:
            self.tick()
        except SQLAlchemyError as exc:
            LOG.warning("cannot claim more sync entries now: %s", exc)
        except RuntimeError:
            pass  # the pool was shut down meanwhile

    def _execute(self, entry: jobs_db.JobEntry, progress: EntryProgress,
                 job: jobs_db.Job | None) -> tuple[str, str | None] | None:
        """``(status, error)`` of the entry (status RETRY: put it back), or None if it
        is no longer ours."""
        try:
            if job is None:
                return "FAILURE", "the job was deleted"
            copier = self.copiers[entry["resource_type"]]
            task = Task(resource=entry["resource"], source=entry["source_region"],
                        target=entry["target_region"], force=entry["force"],
                        scope=Scope(job["project_id"], job["user_id"]), progress=progress)
            LOG.info("sync %s %s %s -> %s (job %s, attempt %d)", entry["resource_type"],
                     entry["resource"], entry["source_region"], entry["target_region"],
                     entry["job_id"], entry["attempts"])
            copier.copy(task)
            return "SUCCESS", None
        except LeaseLost as exc:
            LOG.info("sync entry %s left to another engine: %s", entry["id"], exc)
            return None
        except EntryFailed as exc:
            return "FAILURE", exc.message
        except RegionError as exc:
            if exc.transient and entry["attempts"] <= self.entry_retries:
                return "RETRY", exc.message
            return "FAILURE", exc.message
        except KingbirdError as exc:
            return "FAILURE", exc.message
        except SQLAlchemyError as exc:
            # The database is away: leave the entry to its lease, it will be retried.
            LOG.warning("sync entry %s interrupted by the database: %s", entry["id"], exc)
            return None
        except Exception as exc:
            LOG.exception("sync entry %s crashed", entry["id"])
            return "FAILURE", f"internal error: {type(exc).__name__}"

    def _finish(self, entry: jobs_db.JobEntry, status: str, error: str | None) -> None:
        if status == "RETRY":
            self._retry_later(entry, error or "transient failure")
            return
        try:
            with self.db() as session:
                recorded = jobs_db.finish_entry(session, entry["id"], self.owner, status, error)
        except SQLAlchemyError as exc:
            LOG.warning("could not record the outcome of sync entry %s (it will run "
                        "again): %s", entry["id"], exc)
            return
        metrics.SYNC_ENTRIES.labels(entry["resource_type"], status if recorded else "LOST").inc()
        if recorded:
            LOG.info("sync entry %s: %s%s", entry["id"], status, f" ({error})" if error else "")
        else:
            LOG.info("sync entry %s was taken over before it finished here", entry["id"])

    def _retry_later(self, entry: jobs_db.JobEntry, error: str) -> None:
        delay = min(self.MAX_BACKOFF, self.retry_backoff * 2 ** (entry["attempts"] - 1))
        try:
            with self.db() as session:
                kept = jobs_db.retry_entry(session, entry["id"], self.owner, error, delay)
        except SQLAlchemyError as exc:
            LOG.warning("could not put back sync entry %s (its lease will expire): %s",
                        entry["id"], exc)
            kept = False
        metrics.SYNC_ENTRIES.labels(entry["resource_type"], "RETRY" if kept else "LOST").inc()
        if kept:
            LOG.info("sync entry %s: retry %d of %d in %.1f s (%s)", entry["id"],
                     entry["attempts"], self.entry_retries, delay, error)

    # -- leases -----------------------------------------------------------------------

    def _renew_loop(self) -> None:
        while not self.stopping.wait(self.lease_seconds / 3):
            self.renew_leases()

    def renew_leases(self) -> None:
        """Extend the leases of the running entries; flag those taken over."""
        with self._lock:
            running = dict(self._running)
        if not running:
            return
        try:
            with self.db() as session:
                kept = set(jobs_db.renew_lease(session, list(running), self.owner,
                                              self.lease_seconds))
        except SQLAlchemyError as exc:
            LOG.warning("could not renew the leases of sync entries: %s", exc)
            return
        for entry_id, progress in running.items():
            if entry_id not in kept:
                progress.lost.set()
