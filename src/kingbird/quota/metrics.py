"""The quota syncs' figures on the API's ``/metrics``, read from the database at
each scrape: projects by last outcome, what is due, requests waiting, expired leases."""

from __future__ import annotations

from collections.abc import Iterator

from oslo_config import cfg
from prometheus_client.core import Metric
from sqlalchemy.orm import Session

from kingbird.api.metrics import gauge
from kingbird.quota.models import SYNC_OUTCOMES
from kingbird.quota.stats import sync_stats


def database_metrics(session: Session, conf: cfg.ConfigOpts) -> Iterator[Metric]:
    """Gauges of the projects' quota syncs."""
    work = sync_stats(session, conf.quota.sync_interval)
    projects = gauge("kingbird_quota_projects",
                     "Projects by the outcome of their last quota sync (NONE: never "
                     "synced).", labels=["outcome"])
    for outcome in (*SYNC_OUTCOMES, "NONE"):
        projects.add_metric([outcome], work["projects"].get(outcome, 0))
    yield projects
    yield gauge("kingbird_quota_sync_queue_depth",
                "Projects whose quota sync is due now (requested, never synced, or "
                "synced longer than sync_interval ago).", work["projects_due"])
    yield gauge("kingbird_quota_sync_requests_pending",
                "On-demand quota sync requests not served yet.",
                work["projects_requested"])
    yield gauge("kingbird_quota_sync_leases_expired",
                "Project syncs whose engine stopped renewing its lease (to be "
                "reclaimed).", work["project_leases_expired"])
    if work["oldest_sync_age"] is not None:
        yield gauge("kingbird_quota_sync_oldest_age_seconds",
                    "Seconds since the least recently synced project's last sync.",
                    work["oldest_sync_age"])
