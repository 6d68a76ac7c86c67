"""The sync jobs' figures on the API's ``/metrics``, read from the database at each
scrape: jobs and entries by status, queue depth, retries, repeated claims."""

from __future__ import annotations

from collections.abc import Iterator

from oslo_config import cfg
from prometheus_client.core import Metric
from sqlalchemy.orm import Session

from kingbird.api.metrics import gauge
from kingbird.sync.models import ENTRY_STATUSES, JOB_STATUSES
from kingbird.sync.stats import job_stats


def database_metrics(session: Session, conf: cfg.ConfigOpts) -> Iterator[Metric]:
    """Gauges of the sync jobs and their entries."""
    work = job_stats(session)
    jobs = gauge("kingbird_sync_jobs", "Sync jobs in the database, by status.",
                 labels=["status"])
    for status in JOB_STATUSES:
        jobs.add_metric([status], work["jobs"].get(status, 0))
    yield jobs
    entries = gauge("kingbird_sync_job_entries", "Sync job entries, by status.",
                    labels=["status"])
    for status in ENTRY_STATUSES:
        entries.add_metric([status], work["entries"].get(status, 0))
    yield entries
    yield gauge("kingbird_sync_queue_depth",
                "Sync job entries an engine could claim now (queued, or whose engine's "
                "lease expired).", work["entries_claimable"])
    yield gauge("kingbird_sync_entries_waiting_retry",
                "Sync job entries put back after a transient failure, waiting for "
                "their backoff.", work["entries_waiting_retry"])
    yield gauge("kingbird_sync_entry_claims_repeated",
                "Claims of sync job entries beyond the first (retries and lease "
                "reclaims), over the entries in the database.",
                work["entries_claimed_again"])
