"""Runs the entries of resource sync jobs: claimed with a lease, in parallel with a bound.

The runner is a ``kingbird.engine.leased_work.LeasedWorker``: each tick claims as
many QUEUED entries (or entries whose engine died: their lease expired) as there
are free workers, and runs each on the pool through the copier of its resource
type, while the leases of the running entries are renewed in the background; an
entry whose lease could not be renewed was taken over by another engine, and its
copy is stopped at the next checkpoint. The outcome is recorded with
``finish_entry``, which also updates the job's status.

Nothing is lost if the engine dies: the entry stays IN_PROGRESS until its lease
expires, then any engine claims it again and the copier resumes from the
entry's checkpoint.

An entry that fails for a transient reason (a region down, timing out, answering
5xx) is put back with its reason and claimed again after a backoff, up to
``entry_retries`` times, so a region that comes back in time is served without
anyone retrying by hand. An entry whose engines keep stopping while they copy it
(a copy that crashes the process, say) is claimed at most ``entry_retries +
entry_crashes + 1`` times (its ``attempts``), then recorded as failed, saying so.
While an entry runs, its log lines carry the id of the API request that created
its job.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from kingbird.core import metrics, requestlog
from kingbird.core.exceptions import LeaseLost, RegionError, WorkFailed
from kingbird.engine.leased_work import Lease, LeasedWork, LeasedWorker
from kingbird.regions.copying import Copier, Scope, Task
from kingbird.sync import repository as jobs_db

LOG = logging.getLogger(__name__)


class EntryProgress:
    """``Progress`` of one running entry: its checkpoint in the database, and
    whether the entry is still ours (its lease)."""

    def __init__(self, runner: JobRunner, entry: jobs_db.JobEntry, lease: Lease):
        self._runner = runner
        self.entry_id = entry["id"]
        self._checkpoint = entry.get("checkpoint")
        self.lease = lease

    @property
    def checkpoint(self) -> dict[str, Any] | None:
        return self._checkpoint

    def save(self, checkpoint: dict[str, Any]) -> None:
        self.check()
        with self._runner.db() as session:
            kept = jobs_db.record_checkpoint(session, self.entry_id, self._runner.owner,
                                             checkpoint)
        if not kept:
            self.lease.lose("taken over")
            raise LeaseLost(f"entry {self.entry_id} was taken over")
        self._checkpoint = dict(checkpoint)

    def check(self) -> None:
        self.lease.check()


class EntryWork(LeasedWork):
    """One claimed entry: copied by its type's copier, for the job's user and project."""

    def __init__(self, runner: JobRunner, entry: jobs_db.JobEntry):
        super().__init__(entry["id"], f"sync entry {entry['id']}")
        self.runner = runner
        self.entry = entry
        self.progress = EntryProgress(runner, entry, self.lease)
        self.job: jobs_db.Job | None = None

    @contextlib.contextmanager
    def context(self) -> Iterator[None]:
        with self.runner.db() as session:
            self.job = jobs_db.find_job(session, self.entry["job_id"])
        with requestlog.bound(self.job["request_id"] if self.job else None):
            yield

    def run(self) -> None:
        entry = self.entry
        claims = self.runner.entry_retries + self.runner.entry_crashes + 1
        if entry["attempts"] > claims:
            raise WorkFailed(
                f"given up after {entry['attempts'] - 1} tries: the engine copying it "
                f"stopped without an outcome (crashed, was killed or lost the database) at "
                f"least {self.runner.entry_crashes + 1} times ([engine] entry_crashes = "
                f"{self.runner.entry_crashes})")
        if entry["attempts"] > 1 and entry["error"] is None:
            # Claimed again without a recorded retry: its engine stopped renewing.
            metrics.LEASE_RECLAIMS.labels("sync_entry").inc()
        if self.job is None:
            raise WorkFailed("the job was deleted")
        copier = self.runner.copiers[entry["resource_type"]]
        task = Task(resource=entry["resource"], source=entry["source_region"],
                    target=entry["target_region"], force=entry["force"],
                    scope=Scope(self.job["project_id"], self.job["user_id"]),
                    progress=self.progress)
        LOG.info("sync %s %s %s -> %s (job %s, attempt %d)", entry["resource_type"],
                 entry["resource"], entry["source_region"], entry["target_region"],
                 entry["job_id"], entry["attempts"])
        copier.copy(task)

    def finish(self) -> None:
        self._record("SUCCESS", None)

    def fail(self, reason: str) -> None:
        self._record("FAILURE", reason)

    def _record(self, status: str, error: str | None) -> None:
        with self.runner.db() as session:
            recorded = jobs_db.finish_entry(session, self.key, self.runner.owner, status, error)
        if not recorded:
            raise LeaseLost("taken over before it finished here")
        metrics.SYNC_ENTRIES.labels(self.entry["resource_type"], status).inc()
        LOG.info("sync entry %s: %s%s", self.key, status, f" ({error})" if error else "")

    def retry(self, exc: Exception, reason: str) -> bool:
        """A transient region failure puts the entry back, up to ``entry_retries``
        times, claimed again after a backoff doubled at each retry."""
        attempts = self.entry["attempts"]
        if not (isinstance(exc, RegionError) and exc.transient
                and attempts <= self.runner.entry_retries):
            return False
        delay = min(self.runner.MAX_BACKOFF, self.runner.retry_backoff * 2 ** (attempts - 1))
        with self.runner.db() as session:
            kept = jobs_db.retry_entry(session, self.key, self.runner.owner, reason, delay)
        if not kept:
            raise LeaseLost("taken over before it was put back")
        metrics.SYNC_ENTRIES.labels(self.entry["resource_type"], "RETRY").inc()
        LOG.info("sync entry %s: retry %d of %d in %.1f s (%s)", self.key, attempts,
                 self.runner.entry_retries, delay, reason)
        return True

    def lost(self, exc: LeaseLost | SQLAlchemyError) -> None:
        super().lost(exc)
        metrics.SYNC_ENTRIES.labels(self.entry["resource_type"], "LOST").inc()


class JobRunner(LeasedWorker):
    """The engine worker of sync jobs.

    :param copiers: resource type → its copier.
    :param db: opens a transaction.
    :param owner: this engine's name in leases.
    :param workers: entries run at once (``[engine] job_workers``).
    :param lease_seconds: how long a claim lasts without renewal.
    :param entry_retries: transient failures of an entry retried before it fails.
    :param retry_backoff: seconds before the first retry, doubled at each one.
    :param entry_crashes: claims of an entry ended without an outcome (its engine
        stopped) allowed beyond ``entry_retries`` before it fails.
    """

    MAX_BACKOFF = 60.0

    def __init__(self, copiers: Mapping[str, Copier],
                 db: Callable[[], AbstractContextManager[Session]], owner: str, *,
                 workers: int, lease_seconds: float, entry_retries: int = 0,
                 retry_backoff: float = 1.0, entry_crashes: int = 2):
        super().__init__(owner, workers=workers, lease_seconds=lease_seconds, name="job")
        self.copiers = dict(copiers)
        self.db = db
        self.entry_retries = entry_retries
        self.retry_backoff = retry_backoff
        self.entry_crashes = entry_crashes

    def claim(self, limit: int) -> list[LeasedWork]:
        with self.db() as session:
            claimed = jobs_db.claim_entries(session, self.owner, self.lease_seconds, limit)
        return [EntryWork(self, entry) for entry in claimed]

    def renew(self, keys: list[Hashable]) -> list[int]:
        with self.db() as session:
            return jobs_db.renew_lease(session, keys, self.owner,  # type: ignore[arg-type]
                                       self.lease_seconds)
