"""Metrics of the whole deployment read from the database at each scrape: sync
jobs and entries by status, queue depths, quota syncs by last outcome, expired
leases. Whichever API worker answers, the figures are the same; what each
process did itself (region calls, syncs run, lease reclaims) comes from
``kingbird.core.metrics``."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric

from kingbird.core.metrics import ProcessCollector
from kingbird.db import stats
from kingbird.quota.models import SYNC_OUTCOMES
from kingbird.sync.models import ENTRY_STATUSES, JOB_STATUSES

LOG = logging.getLogger(__name__)


def _gauge(name: str, doc: str, value: float | None = None,
           labels: list[str] | None = None) -> GaugeMetricFamily:
    gauge = GaugeMetricFamily(name, doc, labels=labels)
    if value is not None:
        gauge.add_metric([], value)
    return gauge


class ClusterCollector:
    """Reads ``db.stats.work_stats`` at each scrape."""

    def __init__(self, services):
        self.services = services

    def collect(self) -> Iterator[Metric]:
        try:
            with self.services.db() as session:
                work = stats.work_stats(session, self.services.conf.quota.sync_interval)
        except Exception as exc:  # a scrape must answer; the failure shows as up=0
            LOG.warning("work metrics unavailable: %s", exc)
            yield _gauge("kingbird_database_up", "Whether the database answered the scrape.",
                         0)
            return
        yield _gauge("kingbird_database_up", "Whether the database answered the scrape.", 1)
        jobs = _gauge("kingbird_sync_jobs", "Sync jobs in the database, by status.",
                      labels=["status"])
        for status in JOB_STATUSES:
            jobs.add_metric([status], work["jobs"].get(status, 0))
        yield jobs
        entries = _gauge("kingbird_sync_job_entries", "Sync job entries, by status.",
                         labels=["status"])
        for status in ENTRY_STATUSES:
            entries.add_metric([status], work["entries"].get(status, 0))
        yield entries
        yield _gauge("kingbird_sync_queue_depth",
                     "Sync job entries an engine could claim now (queued, or whose engine's "
                     "lease expired).", work["entries_claimable"])
        yield _gauge("kingbird_sync_entries_waiting_retry",
                     "Sync job entries put back after a transient failure, waiting for "
                     "their backoff.", work["entries_waiting_retry"])
        yield _gauge("kingbird_sync_entry_claims_repeated",
                     "Claims of sync job entries beyond the first (retries and lease "
                     "reclaims), over the entries in the database.",
                     work["entries_claimed_again"])
        projects = _gauge("kingbird_quota_projects",
                          "Projects by the outcome of their last quota sync (NONE: never "
                          "synced).", labels=["outcome"])
        for outcome in (*SYNC_OUTCOMES, "NONE"):
            projects.add_metric([outcome], work["projects"].get(outcome, 0))
        yield projects
        yield _gauge("kingbird_quota_sync_queue_depth",
                     "Projects whose quota sync is due now (requested, never synced, or "
                     "synced longer than sync_interval ago).", work["projects_due"])
        yield _gauge("kingbird_quota_sync_requests_pending",
                     "On-demand quota sync requests not served yet.",
                     work["projects_requested"])
        yield _gauge("kingbird_quota_sync_leases_expired",
                     "Project syncs whose engine stopped renewing its lease (to be "
                     "reclaimed).", work["project_leases_expired"])
        if work["oldest_sync_age"] is not None:
            yield _gauge("kingbird_quota_sync_oldest_age_seconds",
                         "Seconds since the least recently synced project's last sync.",
                         work["oldest_sync_age"])


def collectors():
    """Factories for ``kingbird.api.metrics.COLLECTORS``."""
    return [ClusterCollector, lambda services: ProcessCollector()]
